/**
 * run.prime_rl_revision selects the map of prime-rl's config keys that the generated configs and the extra
 * tables are checked against (emit/prime-rl/maps/config-keys-<rev7>.json, one per revision); run.prime_rl_map,
 * when set, names the map instead (a fork of a mapped revision, a checkout whose commit has no map) — the
 * nodes still check their checkout against run.prime_rl_revision. No map is an error (RS2508) at the key
 * that selected it: rlstack would write keys that prime-rl at that revision may not take; a key rlstack
 * writes that the selected map lacks is RS2509.
 */
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import { buildPrimeRlConfigs, layoutFromSpec, type BuiltConfigs } from '../../emit/prime-rl/configs.js';
import { ADD_MAP_COMMAND, checkConfigKeys, knownRevisions, MAPS_DIR, selectMap } from '../../emit/prime-rl/keys.js';
import { positionOf } from '../../load/provenance.js';
import { report, type Rule } from '../context.js';

export const primeRlRevisionHasAMap: Rule = (ctx) => {
  const { prime_rl_revision: revision, prime_rl_map: named } = ctx.spec.run;
  const map = selectMap(revision, named);
  if (map.ok) return [];
  const known = map.known.length > 0 ? map.known.map((r) => `"${r}"`).join(', ') : 'none';
  const add = `add a map from a prime-rl checkout at that revision with \`${ADD_MAP_COMMAND}\` (in rlstack's repository; it writes ${MAPS_DIR}/config-keys-<rev7>.json)`;
  let out: Diagnostic;
  if (map.key === 'run.prime_rl_map') {
    out = report(ctx, 'RS2508', 'run.prime_rl_map', {
      message:
        map.reason === 'format'
          ? `run.prime_rl_map = ${JSON.stringify(named)} is not a prime-rl revision (7 to 40 hex digits of a commit that has a stored map, e.g. "559b447")`
          : `run.prime_rl_map = ${JSON.stringify(named)} names no stored map of prime-rl's config keys (known revisions: ${known})`,
      hint: `set run.prime_rl_map to one of ${known}, remove it (or set "") to use the map of run.prime_rl_revision, or ${add}`,
    });
  } else if (map.reason === 'format') {
    out = report(ctx, 'RS2508', 'run.prime_rl_revision', {
      message: `run.prime_rl_revision = ${JSON.stringify(revision)} is not a prime-rl revision (7 to 40 hex digits of a commit, e.g. "559b447")`,
      hint: `use the commit of the checkout at run.prime_rl_dir: \`git -C <prime_rl_dir> rev-parse --short=7 HEAD\`; known revisions: ${known}`,
    });
  } else {
    out = report(ctx, 'RS2508', 'run.prime_rl_revision', {
      message: `run.prime_rl_revision = ${JSON.stringify(revision)}: rlstack has no map of prime-rl's config keys for this revision (known revisions: ${known})`,
      hint: `set run.prime_rl_revision to one of ${known} (and check that revision out on the nodes), set run.prime_rl_map to one of them for a fork of that revision, or ${add}`,
    });
  }
  return [out];
};

const SPEC_KEY = /^[a-z_][a-z_0-9]*(\.[a-z_0-9]+)*$/;

/**
 * The keys rlstack itself writes into the prime-rl configs, checked against the selected map: a map of a
 * newer prime-rl may lack a key rlstack's mapping still writes (prime-rl renamed or dropped it), which prime-rl
 * would refuse at start, on the cluster. (The extra tables are checked by extraTablesValid.)
 */
export const generatedKeysKnown: Rule = (ctx) => {
  const map = selectMap(ctx.spec.run.prime_rl_revision, ctx.spec.run.prime_rl_map);
  if (!map.ok) return [];
  let built: BuiltConfigs;
  try {
    built = buildPrimeRlConfigs(ctx.spec, ctx.derived, layoutFromSpec(ctx.spec, ctx.derived));
  } catch (error) {
    return [report(ctx, 'RS9001', map.key, { message: `rlstack could not build the prime-rl configs to check them against prime-rl ${map.revision}: ${String(error)}`, hint: 'please report this bug' })];
  }
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const b of [built.trainer, built.orchestrator, built.inference, ...built.envServers]) {
    if (!b) continue;
    for (const issue of checkConfigKeys(b.root, b.config.data, map.revision)) {
      const dotted = issue.path.map(String).join('.');
      if (seen.has(`${b.root} ${dotted}`)) continue;
      seen.add(`${b.root} ${dotted}`);
      const origin = b.config.originOf(dotted) ?? 'rlstack';
      // The spec key the value comes from when the origin names one the spec has; else the key that selected the map.
      const specKey = origin.split(' ')[0] ?? '';
      const at = SPEC_KEY.test(specKey) && positionOf(ctx.provenance, specKey) ? specKey : map.key;
      const what = issue.kind === 'unknown' ? `prime-rl ${map.revision} has no key ${dotted} (${issue.message})` : `prime-rl ${map.revision}: ${issue.message}`;
      out.push(
        report(ctx, 'RS2509', at, {
          message: `${b.path}: ${what}; rlstack sets ${dotted} from ${origin}`,
          hint: `rlstack's mapping (src/compiler/emit/prime-rl/configs.ts, docs/prime-rl-mapping.md) writes keys prime-rl ${map.revision} does not take: use a revision it fits (${knownRevisionsText()}), or update the mapping for ${map.revision}`,
        }),
      );
    }
  }
  return out;
};

function knownRevisionsText(): string {
  return knownRevisions().map((r) => `"${r}"`).join(', ');
}
