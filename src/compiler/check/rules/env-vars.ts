/** Environment variables and secrets: valid names, nothing rlstack or prime-rl manages, secrets kept secret. */
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import { joinPath } from '../../spec/key-path.js';
import { ENV_NAME_PATTERN } from '../../spec/schema.js';
import { report, type Rule } from '../context.js';

/** prime-rl rejects these in every env_vars table (rule X3); rlstack's runtime sets the rest per process. */
export const RESERVED_ENV_VARS = [
  'CUDA_VISIBLE_DEVICES',
  'PRL_RUN_ID',
  'PRL_RUN_NAME',
  'WANDB_RUN_ID',
  'WANDB_SHARED_MODE',
  'WANDB_SHARED_LABEL',
  'WANDB_SHARED_PRIMARY',
  'WANDB_SHARED_FINISHER',
  'MASTER_ADDR',
  'MASTER_PORT',
  'RANK',
  'LOCAL_RANK',
  'WORLD_SIZE',
] as const;

const NAME = new RegExp(ENV_NAME_PATTERN);
const RESERVED = new Set<string>(RESERVED_ENV_VARS);

function envTables(spec: RuleContextSpec): { path: string; table: Record<string, unknown> }[] {
  return [
    { path: 'env', table: spec.env },
    { path: 'trainer.env', table: spec.trainer.env },
    { path: 'inference.env', table: spec.inference.env },
    { path: 'orchestrator.env', table: spec.orchestrator.env },
    { path: 'sandboxes.env', table: spec.sandboxes.env },
  ];
}
type RuleContextSpec = Parameters<Rule>[0]['spec'];

export const envVarNamesValid: Rule = (ctx) => {
  const out: Diagnostic[] = [];
  for (const { path, table } of envTables(ctx.spec)) {
    for (const name of Object.keys(table)) {
      const keyPath = joinPath([...path.split('.'), name]);
      if (!NAME.test(name)) {
        out.push(report(ctx, 'RS1801', keyPath, { message: `"${name}" is not a valid environment variable name`, hint: 'letters, digits and _, not starting with a digit' }, 'key'));
      } else if (RESERVED.has(name)) {
        out.push(report(ctx, 'RS1802', keyPath, { message: `${name} is set by rlstack and prime-rl for each process and may not be overridden`, hint: `reserved: ${RESERVED_ENV_VARS.join(', ')}` }, 'key'));
      }
    }
  }
  return out;
};

export const secretsValid: Rule = (ctx) => {
  const out: Diagnostic[] = [];
  for (const [name, roles] of Object.entries(ctx.spec.secrets)) {
    const keyPath = joinPath(['secrets', name]);
    if (!NAME.test(name) || RESERVED.has(name)) {
      out.push(report(ctx, 'RS1804', keyPath, { message: `secret name "${name}" is ${NAME.test(name) ? 'reserved' : 'not a valid environment variable name'}`, hint: 'a secret is delivered as the environment variable of the same name' }, 'key'));
      continue;
    }
    if (roles.length === 0) out.push(report(ctx, 'RS1805', keyPath, { message: `secret ${name} is given to no role`, hint: 'list the roles that need it, e.g. ["trainer", "orchestrator"]' }));
    for (const { path, table } of envTables(ctx.spec)) {
      if (name in table) {
        out.push(
          report(ctx, 'RS1803', joinPath([...path.split('.'), name]), {
            message: `${name} is a secret but also has a plain value in [${path}], which would be written into generated files`,
            hint: `remove it from [${path}]; the launcher reads secrets from its own environment at launch`,
          }),
        );
      }
    }
  }
  return out;
};
