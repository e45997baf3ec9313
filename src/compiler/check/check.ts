/**
 * check, part 2: every semantic rule, in the order a user should fix things (where things run, then what
 * runs). Each rule is a small named function returning diagnostics; none throws.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { LaunchPlan } from '../plan/types.js';
import type { Rule, RuleContext } from './context.js';
import * as cluster from './rules/cluster.js';
import * as envVars from './rules/env-vars.js';
import * as environments from './rules/environments.js';
import * as extra from './rules/extra.js';
import * as inference from './rules/inference.js';
import * as model from './rules/model.js';
import * as orchestrator from './rules/orchestrator.js';
import * as primeRl from './rules/prime-rl.js';
import * as processes from './rules/processes.js';
import * as trainer from './rules/trainer.js';

export const RULES: readonly Rule[] = [
  cluster.poolsExist,
  cluster.gpuTypesKnown,
  cluster.roleSizesGiven,
  cluster.rolesFitTheirPools,
  cluster.poolsNotOversubscribed,
  cluster.localBackendIsOneNode,
  cluster.sshHostsMatchNodes,
  cluster.primeRlDirUsable,
  cluster.slurmValuesSafe,
  cluster.signalBeforeTimeLimit,
  cluster.portsInRange,
  cluster.unusedNodes,
  model.modelKnown,
  model.architectureComplete,
  model.sequenceWithinModel,
  trainer.trainerWorldDivides,
  trainer.expertParallelValid,
  trainer.contextParallelDividesHeads,
  inference.tensorParallelFits,
  inference.replicasSpanNodes,
  inference.fp8WeightsPossible,
  orchestrator.batchMatchesGroups,
  orchestrator.tokensWithinContext,
  orchestrator.promptWithinRollout,
  orchestrator.orchestratorHasANode,
  orchestrator.weightBroadcastPossible,
  environments.environmentNamesUnique,
  environments.trainEnvironmentPresent,
  environments.sandboxedEnvironmentsHaveAFleet,
  environments.shardsSpreadOverTheFleet,
  environments.hostedSandboxesHaveACredential,
  envVars.envVarNamesValid,
  envVars.secretsValid,
  primeRl.primeRlRevisionHasAMap,
  primeRl.generatedKeysKnown,
  extra.extraTablesValid,
];

export function checkSpec(ctx: RuleContext): Diagnostic[] {
  return RULES.flatMap((rule) => rule(ctx));
}

/** Rules on the assembled plan (what each process binds and is started with), run once placement succeeded. */
export const PLAN_RULES: readonly processes.PlanRule[] = [processes.portsDistinctPerNode, processes.environmentWithinArgLimit];

export function checkPlan(ctx: RuleContext, plan: LaunchPlan): Diagnostic[] {
  return PLAN_RULES.flatMap((rule) => rule(ctx, plan));
}
