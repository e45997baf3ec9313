/**
 * The spec's `extra` tables ([trainer.extra], [orchestrator.extra], [inference.extra]) are merged into the
 * prime-rl configs rlstack generates. Checked first, against prime-rl's keys at run.prime_rl_revision (or the
 * map run.prime_rl_map names; emit/prime-rl/maps/config-keys-<rev7>.json; without a map RS2508 is reported
 * and keys are not checked):
 * unknown keys (prime-rl forbids them, except vLLM engine arguments under [inference.extra.vllm], which
 * pass through to vLLM), wrong-typed values, keys rlstack passes at start (hosts, ports, the run dir), and
 * overrides of keys the spec already sets — an override would break the agreement between components that
 * rlstack derives. Environment `args` may not replace the taskset id.
 */
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import { buildPrimeRlConfigs, deepMerge, EXTRA_COMPONENTS, layoutFromSpec, managedKey, type ConfigTable, type ExtraComponent } from '../../emit/prime-rl/configs.js';
import { checkConfigKeys, ROOT_CLASSES, selectMap, shortName } from '../../emit/prime-rl/keys.js';
import { isPlainTable, joinPath, type KeyPart } from '../../spec/key-path.js';
import { report, type Rule, type RuleContext } from '../context.js';

export const extraTablesValid: Rule = (ctx) => {
  const out: Diagnostic[] = [];
  const hasExtra = EXTRA_COMPONENTS.some((c) => Object.keys(ctx.spec[c].extra).length > 0);
  const map = selectMap(ctx.spec.run.prime_rl_revision, ctx.spec.run.prime_rl_map);
  const revision = map.ok ? map.revision : undefined;
  if (hasExtra) {
    let built: ReturnType<typeof buildPrimeRlConfigs>;
    try {
      built = buildPrimeRlConfigs(ctx.spec, ctx.derived, layoutFromSpec(ctx.spec, ctx.derived));
    } catch (error) {
      return [report(ctx, 'RS9001', 'trainer.extra', { message: `rlstack could not build the prime-rl configs to check the extra tables against: ${String(error)}`, hint: 'please report this bug' })];
    }
    for (const component of EXTRA_COMPONENTS) {
      const extra = ctx.spec[component].extra;
      if (Object.keys(extra).length === 0) continue;
      const base = built[component];
      if (!base) {
        out.push(
          report(ctx, 'RS2507', `${component}.extra`, {
            message: `[${component}.extra] is ignored: this run starts no ${component} (it has no inference GPUs)`,
            hint: `remove [${component}.extra], or give the run inference nodes or GPUs`,
          }, 'key'),
        );
        continue;
      }
      const refused = new Set<string>();
      checkOverrides(ctx, component, base.config, base.config.data, extra, [], out, refused);
      const merged = deepMerge(base.config.data, extra);
      for (const issue of revision ? checkConfigKeys(ROOT_CLASSES[component], merged, revision) : []) {
        const path = joinPath([component, 'extra', ...issue.path]);
        if (!providedBy(extra, issue.path) || managedKey(component, issue.path.map(String).join('.')) || refused.has(path)) continue;
        const dotted = joinPath(issue.path);
        if (issue.kind === 'unknown') {
          const top = issue.path.length === 1 && component === 'inference';
          out.push(
            report(ctx, 'RS2501', path, {
              message: `${path}: the ${component} config of prime-rl ${revision} has no key ${dotted} (no "${String(issue.path[issue.path.length - 1])}" in ${shortName(issue.className)})`,
              hint: issue.suggestion
                ? `did you mean ${joinPath([component, 'extra', ...issue.path.slice(0, -1), issue.suggestion])}?`
                : top
                  ? 'vLLM engine arguments go under [inference.extra.vllm], which passes unknown keys through to vLLM'
                  : 'prime-rl refuses unknown keys; see its config reference for the keys it accepts',
            }, 'key'),
          );
        } else {
          out.push(report(ctx, 'RS2505', path, { message: `${path}: ${issue.message}`, hint: issue.expected ? `expected ${issue.expected}` : undefined }));
        }
      }
    }
  }
  ctx.spec.environments.forEach((env, i) => {
    if ('id' in env.args) {
      out.push(
        report(ctx, 'RS2506', joinPath(['environments', i, 'args', 'id']), {
          message: `environments[${i}].args.id would replace the taskset id that environments[${i}].taskset = "${env.taskset}" sets`,
          hint: 'set the taskset with `taskset`; args are the taskset\'s own options',
        }, 'key'),
      );
    }
  });
  return out;
};

/** Did the extra table provide the value at `path` (itself, or a whole list above it)? */
function providedBy(extra: Record<string, unknown>, path: readonly KeyPart[]): boolean {
  let node: unknown = extra;
  for (const part of path) {
    if (!isPlainTable(node)) return true;
    if (typeof part !== 'string' || !(part in node)) return false;
    node = node[part];
  }
  return true;
}

const SPEC_KEY = /^[a-z_]+(\.[a-z_]+)+$/;

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function checkOverrides(
  ctx: RuleContext,
  component: ExtraComponent,
  config: ConfigTable,
  base: unknown,
  extra: Record<string, unknown>,
  parts: string[],
  out: Diagnostic[],
  refused: Set<string>,
): void {
  for (const [key, value] of Object.entries(extra)) {
    const at = [...parts, key];
    const dotted = at.join('.');
    const path = joinPath([component, 'extra', ...at]);
    const managed = managedKey(component, dotted);
    if (managed) {
      out.push(report(ctx, 'RS2504', path, { message: `${path}: rlstack manages ${component} ${dotted}: ${managed.why}`, hint: `remove it from [${component}.extra]` }, 'key'));
      continue;
    }
    const current = isPlainTable(base) ? base[key] : undefined;
    if (current === undefined) continue;
    if (isPlainTable(current) && isPlainTable(value)) {
      checkOverrides(ctx, component, config, current, value, at, out, refused);
      continue;
    }
    refused.add(path);
    if (isPlainTable(current)) {
      // A whole table the spec fills, replaced by a scalar or a list.
      const origins = config.originsBelow(dotted);
      out.push(
        report(ctx, 'RS2502', path, {
          message: `${path} = ${show(value)} would replace the ${component} ${dotted} table, which rlstack fills from ${origins.slice(0, 4).join(', ')}${origins.length > 4 ? ', ...' : ''}`,
          hint:
            origins.length === 1 && SPEC_KEY.test(origins[0]!.split(' ')[0] ?? '')
              ? `set ${origins[0]!.split(' ')[0]} in the spec instead`
              : `add keys inside [${component}.extra.${dotted}] instead of replacing the table`,
        }, 'key'),
      );
      continue;
    }
    const origin = config.originOf(dotted) ?? 'the spec';
    if (JSON.stringify(current) === JSON.stringify(value)) {
      out.push(
        report(ctx, 'RS2503', path, {
          message: `${path} repeats ${show(value)}, which rlstack already sets from ${origin}`,
          hint: `remove it from [${component}.extra]`,
        }, 'key'),
      );
    } else {
      out.push(
        report(ctx, 'RS2502', path, {
          message: `${path} = ${show(value)} would override ${component} ${dotted} = ${show(current)}, which rlstack sets from ${origin}`,
          hint: SPEC_KEY.test(origin.split(' ')[0] ?? '')
            ? `set ${origin.split(' ')[0]} in the spec instead; extra tables may only add keys the spec does not set`
            : 'rlstack derives this value so that the components agree; extra tables may only add keys the spec does not set',
        }, 'key'),
      );
    }
  }
}
