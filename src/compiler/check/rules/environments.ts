/** Environments and the sandbox fleet that runs their code. */
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import { environmentSources } from '../../plan/sources.js';
import { report, type Rule } from '../context.js';

export const environmentNamesUnique: Rule = (ctx) => {
  const out: Diagnostic[] = [];
  const seen = new Map<string, number>();
  ctx.spec.environments.forEach((env, i) => {
    const first = seen.get(env.name);
    if (first !== undefined) {
      out.push(report(ctx, 'RS1601', `environments[${i}].name`, { message: `environment name "${env.name}" is used twice (environments ${first} and ${i})`, hint: 'names identify env servers, logs and metrics: make them unique' }));
    } else seen.set(env.name, i);
    if (env.name === 'agg') {
      out.push(report(ctx, 'RS1603', `environments[${i}].name`, { message: 'environment name "agg" is reserved by prime-rl for aggregate metrics', hint: 'choose another name' }));
    }
  });
  return out;
};

export const trainEnvironmentPresent: Rule = (ctx) => {
  if (ctx.derived.inference.gpus === 0) return [];
  if (ctx.spec.environments.some((e) => e.split === 'train')) return [];
  return [
    report(ctx, 'RS1602', 'environments', {
      message: 'no environment with split = "train": the orchestrator would have nothing to roll out',
      hint: 'add [[environments]] with name and taskset (or run trainer-only with inference.nodes = 0)',
    }),
  ];
};

export const sandboxedEnvironmentsHaveAFleet: Rule = (ctx) => {
  const out: Diagnostic[] = [];
  const sandboxed = ctx.spec.environments.map((e, i) => ({ e, i })).filter(({ e }) => e.runtime === 'sandbox');
  const provider = ctx.spec.sandboxes.provider;
  if (provider === 'none') {
    for (const { e, i } of sandboxed) {
      out.push(
        report(ctx, 'RS1604', `environments[${i}].runtime`, {
          message: `environment ${e.name} runs in sandboxes, but sandboxes.provider = "none"`,
          hint: 'set sandboxes.provider = "docker" (with fleet nodes) or "prime" (hosted), or runtime = "subprocess"',
        }),
      );
    }
  }
  if (provider === 'docker' && ctx.spec.sandboxes.nodes === 0) {
    out.push(report(ctx, 'RS1701', 'sandboxes.nodes', { message: 'sandboxes.provider = "docker" needs fleet nodes: the env servers run next to each node\'s Docker', hint: 'set sandboxes.nodes ≥ 1 (and sandboxes.pool for a CPU pool), or provider = "prime"' }));
  }
  if (provider !== 'none' && sandboxed.length === 0) {
    out.push(report(ctx, 'RS1702', 'sandboxes.provider', { message: `sandboxes.provider = "${provider}" but no environment has runtime = "sandbox"`, hint: 'set runtime = "sandbox" on the code environments, or provider = "none"' }));
  }
  if (provider === 'docker' && ctx.spec.sandboxes.network === 'host' && sandboxed.length > 0) {
    out.push(
      report(ctx, 'RS1703', 'sandboxes.network', {
        message: 'sandboxes.network = "host" lets untrusted rollout code reach every service on the fleet nodes\' network',
        hint: 'use "restricted" with an allow list unless the code is trusted',
      }),
    );
  }
  return out;
};

export const shardsSpreadOverTheFleet: Rule = (ctx) => {
  const out: Diagnostic[] = [];
  const fleet = ctx.spec.sandboxes.provider === 'docker' ? ctx.spec.sandboxes.nodes : 0;
  ctx.spec.environments.forEach((env, i) => {
    if (env.shards === 1) return;
    const path = `environments[${i}].shards`;
    if (env.runtime !== 'sandbox' || ctx.spec.sandboxes.provider !== 'docker') {
      out.push(report(ctx, 'RS1605', path, { message: `environment ${env.name} has ${env.shards} shards, but only sandboxed environments on a docker fleet are spread over nodes: all its env servers would run beside the orchestrator`, hint: 'remove shards, or run the environment in docker sandboxes' }));
    } else if (env.shards > fleet) {
      out.push(report(ctx, 'RS1605', path, { message: `environment ${env.name} has ${env.shards} shards but the fleet has ${fleet} nodes: shards will share nodes and their boxes`, hint: `sandboxes.nodes ≥ ${env.shards}` }));
    }
  });
  const names = new Map<string, string>();
  for (const source of environmentSources(ctx.spec)) {
    const other = names.get(source.name);
    if (other !== undefined && other !== source.environment.name) {
      out.push(report(ctx, 'RS1601', `environments[${source.environmentIndex}].name`, { message: `the shard source "${source.name}" of environment ${other} collides with environment ${source.environment.name}`, hint: 'rename one of them' }));
    }
    names.set(source.name, source.environment.name);
  }
  return out;
};

/** Hosted sandboxes are created by the env servers with the team's credential: it must reach them. */
export const hostedSandboxesHaveACredential: Rule = (ctx) => {
  if (ctx.spec.sandboxes.provider !== 'prime' || !ctx.spec.environments.some((e) => e.runtime === 'sandbox')) return [];
  const roles = ctx.spec.secrets['PRIME_API_KEY'];
  if (roles?.includes('env_servers')) return [];
  return [
    report(ctx, 'RS1704', 'sandboxes.provider', {
      message: 'sandboxes.provider = "prime" creates boxes with the Prime API key, but no secret PRIME_API_KEY goes to the env servers',
      hint: 'add to [secrets]: PRIME_API_KEY = ["env_servers"] (the value is read from the launcher environment)',
    }),
  ];
};
