/**
 * emit: a plan → every artifact of SPEC §5, as {path, content} pairs. Pure and deterministic: the same spec
 * gives byte-identical files (no times, no host names, no secrets). Templates are rendered by handlebars
 * with an all-string context; every value that reaches a shell goes through the one quoting helper.
 */
import { defaultSlurmSignal } from '../plan/slurm-time.js';
import { HOST_CAPACITY_FUNCTIONS } from '../../runtime/host-capacity.js';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { PACKAGE_ROOT } from '../../paths.js';
import { RUNTIME } from '../../runtime/components/common.js';
import { STOP_RANKS } from '../../runtime/components/lifecycle.js';
import { shQuote, shWord } from '../../runtime/shell.js';
import { RLSTACK_VERSION } from '../../version.js';
import type { Derived } from '../plan/derive.js';
import type { LaunchPlan, PlanNode, PlanProcess } from '../plan/types.js';
import type { ResolvedSpec } from '../resolve.js';
import type { Spec } from '../spec/schema.js';
import { renderPrimeRlConfigs } from './prime-rl/configs.js';
import { codePointOrder } from '../../order.js';

export interface Artifact {
  path: string;
  content: string;
  /** Octal file mode; scripts are executable. */
  mode: number;
}

export interface Manifest {
  rlstack_version: string;
  spec_sha256: string;
  /** Where the files were compiled to live (absolute): `rlstack launch DIR` starts them only there. */
  location?: { run_dir: string; artifacts_dir: string };
  files: { path: string; sha256: string; bytes: number }[];
}

const TEMPLATE_OPTIONS = { noEscape: true, strict: true, knownHelpersOnly: true, knownHelpers: { sh: true } } as const;

const handlebars = Handlebars.create();
handlebars.registerHelper('sh', (value: unknown) => {
  if (typeof value !== 'string') throw new Error(`template: sh needs a string, got ${typeof value}`);
  return shQuote(value);
});

const templates = new Map<string, HandlebarsTemplateDelegate>();
function template(name: string): HandlebarsTemplateDelegate {
  let t = templates.get(name);
  if (!t) {
    t = handlebars.compile(readFileSync(join(PACKAGE_ROOT, 'templates', name), 'utf8'), TEMPLATE_OPTIONS);
    templates.set(name, t);
  }
  return t;
}

export function nodeId(index: number): string {
  return String(index).padStart(3, '0');
}

/**
 * Where the files will live, when the caller knows (absolute paths): `launch` writes them to
 * `<run dir>/launcher`, `compile -o DIR` to DIR. The Slurm job script names both, because sbatch runs a copy
 * of the script, which cannot find its folder by itself; without it the script uses the plan's run dir.
 */
export interface ArtifactsLocation {
  runDir: string;
  artifactsDir: string;
}

export function renderArtifacts(resolved: ResolvedSpec, derived: Derived, plan: LaunchPlan, location?: ArtifactsLocation): { artifacts: Artifact[]; manifest: Manifest } {
  const spec = resolved.spec;
  const files: Artifact[] = [];
  const add = (path: string, content: string, mode = 0o644) => files.push({ path, content, mode });

  add('plan.json', `${JSON.stringify(plan, null, 2)}\n`);
  for (const config of renderPrimeRlConfigs(spec, derived, plan)) add(config.path, config.content);
  const byName = new Map(plan.processes.map((p) => [p.name, p]));
  for (const node of plan.nodes) {
    const processes = node.processes.map((name) => byName.get(name)!);
    add(`nodes/node-${nodeId(node.index)}.json`, `${JSON.stringify({ ...node, processes }, null, 2)}\n`);
    add(`nodes/node-${nodeId(node.index)}.sh`, renderNodePlan(plan, node, processes, byName));
  }
  add('node.sh', renderNodeScript(spec, plan), 0o755);
  if (spec.sandboxes.provider === 'docker') add('bin/docker', template('docker-shim.sh')({}), 0o755);
  if (spec.cluster.backend === 'slurm') add('slurm/job.sbatch', renderSbatch(spec, plan, location), 0o755);
  if (spec.cluster.backend === 'ssh') {
    add('ssh/hosts', `${plan.nodes.map((n) => n.host ?? '').join('\n')}\n`);
    add('ssh/start.sh', renderSshStart(spec, plan, location), 0o755);
  }

  files.sort((a, b) => codePointOrder(a.path, b.path));
  const manifest: Manifest = {
    rlstack_version: RLSTACK_VERSION,
    spec_sha256: sha256(JSON.stringify(sortedKeys(spec))),
    ...(location ? { location: { run_dir: location.runDir, artifacts_dir: location.artifactsDir } } : {}),
    files: files.map((f) => ({ path: f.path, sha256: sha256(f.content), bytes: Buffer.byteLength(f.content) })),
  };
  return { artifacts: [...files, { path: 'manifest.json', content: `${JSON.stringify(manifest, null, 2)}\n`, mode: 0o644 }], manifest };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortedKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}

/** A bash identifier for a process name (names may contain `-` and `.`). */
function functionSuffix(index: number): string {
  return `p${index}`;
}

/** The node's launch plan as bash for node.sh to source: arrays only, every value quoted. */
export function renderNodePlan(plan: LaunchPlan, node: PlanNode, processes: PlanProcess[], byName: Map<string, PlanProcess>): string {
  const words = (list: readonly string[]) => list.map(shQuote).join(' ');
  const ordered = [...processes].sort((a, b) => a.order - b.order || codePointOrder(a.name, b.name));
  const orders = [...new Set(ordered.map((p) => p.order))];
  const gpus = new Set(processes.flatMap((p) => p.gpus));
  const lines = [
    '# shellcheck shell=bash disable=SC2034 # variables read by node.sh',
    `# Launch plan of node ${node.index} (${node.pool} pool, node ${node.pool_index}) — generated by rlstack; sourced by node.sh.`,
    `RLS_NODE_GPUS=${gpus.size ? Math.max(...gpus) + 1 : 0}`,
    `RLS_NODE_PORTS=(${processes.flatMap((p) => p.ports).join(' ')})`,
    // What the node check holds this node's RAM and the run dir's free space to (GiB, rounded up; 0 = no
    // estimate): the spec's capacities may be unknown or wrong, the node's own figures are not.
    `RLS_NODE_NEEDS_MEMORY_GIB=${Math.ceil(processes.some((p) => p.role === 'trainer') ? (plan.memory?.trainer.host_gib ?? 0) : 0)}`,
    `RLS_NODE_NEEDS_DISK_GIB=${Math.ceil(plan.memory?.disk.run_dir_gib ?? 0)}`,
    `RLS_PROCS=(${words(ordered.map((p) => p.name))})`,
    `RLS_ORDERS=(${orders.join(' ')})`,
    ...orders.map((o) => `RLS_GROUP_${o}=(${words(ordered.filter((p) => p.order === o).map((p) => p.name))})`),
    // The processes whose clean exit completes the run, read by the node that decides completion.
    `RLS_RUN_FINISHERS=(${node.index === plan.roles.orchestrator.node ? words(plan.processes.filter((p) => p.lifecycle.finishes_run).map((p) => p.name)) : ''})`,
    `declare -A RLS_FN=(${ordered.map((p, i) => `[${shQuote(p.name)}]=${functionSuffix(i)}`).join(' ')})`,
    `RLS_WATCH=(${words(peersToWatch(processes, byName, node.index))})`,
  ];
  const rendered = `${RUNTIME.rendered}/`;
  ordered.forEach((p, i) => {
    const after = p.after.map((dep) => {
      const d = byName.get(dep)!;
      return `${d.name}|${d.ready}|${d.node}|${d.ports[0] ?? 0}`;
    });
    lines.push(
      '',
      `rls_proc_${functionSuffix(i)}() { # ${p.name}`,
      `  RLS_ROLE=${shQuote(p.role)}`,
      `  RLS_READY=${shQuote(p.ready)}`,
      `  RLS_READY_PORT=${p.ports[0] ?? 0}`,
      `  RLS_AFTER=(${words(after)})`,
      `  RLS_ENV=(${words(Object.entries(p.env).map(([k, v]) => `${k}=${v}`))})`,
      `  RLS_SECRETS=(${words(p.secrets)})`,
      `  RLS_RENDER=(${words(p.command.filter((w) => w.startsWith(rendered)).map((w) => w.slice(rendered.length)))})`,
      `  RLS_CMD=(${p.command.map(shWord).join(' ')})`,
      `  RLS_STOP_RANK=${p.lifecycle.stop_rank}`,
      `  RLS_WAITS_FOR_CHECKPOINT=${p.lifecycle.waits_for_checkpoint ? 1 : 0}`,
      `  RLS_RESUME_FLAG=${shQuote(p.lifecycle.resume_flag ?? '')}`,
      `  RLS_IPC_DIR_ENV=${shQuote(p.lifecycle.ipc_dir_env ?? '')}`,
      `  RLS_SANDBOX_LABEL=${p.lifecycle.sandbox_label ? 1 : 0}`,
      `  RLS_FINISHES_RUN=${p.lifecycle.finishes_run ? 1 : 0}`,
      '}',
    );
  });
  return `${lines.join('\n')}\n`;
}

/** What this node's processes depend on elsewhere and can probe over the network (not 'process' readiness). */
function peersToWatch(processes: PlanProcess[], byName: Map<string, PlanProcess>, node: number): string[] {
  const deps = new Set(processes.flatMap((p) => [...p.after, ...p.watch]));
  return [...deps]
    .map((name) => byName.get(name)!)
    .filter((d) => d.node !== node && d.ready !== 'process')
    .sort((a, b) => codePointOrder(a.name, b.name))
    .map((d) => `${d.name}|${d.ready}|${d.node}|${d.ports[0] ?? 0}`);
}

function renderNodeScript(spec: Spec, plan: LaunchPlan): string {
  return template('node.sh.hbs')({
    version: RLSTACK_VERSION,
    run_name_comment: spec.run.name,
    run_name: spec.run.name,
    prime_rl_dir: spec.run.prime_rl_dir,
    prime_rl_revision: spec.run.prime_rl_revision,
    hf_home: spec.run.hf_home,
    trainer_checkpoint_base: spec.checkpoint.dir,
    secret_names: Object.keys(spec.secrets).sort(codePointOrder).map(shQuote).join(' '),
    model_name: spec.model.name,
    ready_timeout_s: String(spec.run.ready_timeout_s),
    check_timeout_s: String(Math.min(spec.run.ready_timeout_s, 600)),
    stop_grace_s: '30',
    checkpoint_grace_s: '600',
    node_count: String(plan.nodes.length),
    orchestrator_node: String(plan.roles.orchestrator.node),
    resume: String(spec.run.resume),
    sandbox_docker: String(spec.sandboxes.provider === 'docker'),
    host_capacity_functions: HOST_CAPACITY_FUNCTIONS.trimEnd(),
    skip_checks: [...new Set([...spec.cluster.skip_checks, ...spec.cluster.ssh.skip_checks])].sort(codePointOrder).join(' '),
    stop_ranks: STOP_RANKS.join(' '),
    // What a node that fails its check can be left out with, on this back end.
    leave_out_hint: { slurm: ' — fix the node, or leave it out with cluster.slurm.exclude', ssh: ' — fix the node, or leave it out of cluster.ssh.hosts', local: '' }[spec.cluster.backend],
  });
}

/** A path for the shell: `~/x` stays the user's home on the machine that runs it; the rest is quoted. */
function homePath(path: string): string {
  return path.startsWith('~/') ? `"$HOME"/${shQuote(path.slice(2))}` : shQuote(path);
}

/**
 * `ssh/start.sh` of an ssh bundle: the launcher's start (src/launcher/backends/ssh.ts: attempt, hosts,
 * ssh.json, node.sh detached per node with its variables on stdin) for a user without rlstack at hand.
 */
function renderSshStart(spec: Spec, plan: LaunchPlan, location: ArtifactsLocation | undefined): string {
  const ssh = spec.cluster.ssh;
  const runDir = location?.runDir ?? plan.run.dir;
  const { hosts: _hosts, skip_checks: _skip, ...settings } = ssh;
  const options = [
    ssh.port !== 22 ? ` -p ${ssh.port}` : '',
    ssh.user ? ` -l ${shQuote(ssh.user)}` : '',
    ssh.identity_file ? ` -i ${homePath(ssh.identity_file)}` : '',
    ssh.jump ? ` -J ${shQuote(ssh.jump)}` : '',
    ssh.known_hosts !== '~/.ssh/known_hosts' ? ` -o UserKnownHostsFile=${homePath(ssh.known_hosts)}` : '',
    ssh.config !== '~/.ssh/config' ? ` -F ${homePath(ssh.config)}` : '',
  ].join('');
  const hosts = plan.nodes.map((n) => n.host ?? '');
  return template('ssh-start.sh.hbs')({
    version: RLSTACK_VERSION,
    run_name_comment: spec.run.name.replace(/[^\w.-]/g, '?'),
    node_count: String(hosts.length),
    artifacts_dir_comment: (location?.artifactsDir ?? `${runDir}/launcher`).replace(/[^\w./-]/g, '?'),
    run_dir: runDir,
    artifacts_dir: location?.artifactsDir ?? `${runDir}/launcher`,
    hosts: hosts.map(shQuote).join(' '),
    secrets: Object.keys(spec.secrets).map(shQuote).join(' '),
    connect_timeout_s: String(ssh.connect_timeout_s),
    ssh_options: options,
    remote_path: ssh.path.map(shQuote).join(' '),
    ssh_json: JSON.stringify({ settings, hosts, node_sh: `${location?.artifactsDir ?? `${runDir}/launcher`}/node.sh` }, null, 2),
  });
}

function renderSbatch(spec: Spec, plan: LaunchPlan, location: ArtifactsLocation | undefined): string {
  const c = spec.cluster;
  const runDir = location?.runDir ?? plan.run.dir;
  const components = plan.cluster.pools.map((pool, g) => {
    const overrides: { extra_sbatch?: string[] } & Partial<Record<'partition' | 'account' | 'qos' | 'constraint' | 'exclude', string>> =
      pool.name === 'default' ? {} : (c.pools[pool.name]?.slurm ?? {});
    const pick = (key: 'partition' | 'account' | 'qos' | 'constraint' | 'exclude') => overrides[key] || c.slurm[key];
    const lines: string[] = [];
    if (g === 0) lines.push(`--job-name=rlstack-${spec.run.name}`);
    lines.push(`--nodes=${pool.nodes}`, '--ntasks-per-node=1', '--exclusive', '--mem=0');
    if (pool.gpus_per_node > 0) lines.push(`--gres=gpu:${pool.gpus_per_node}`);
    for (const key of ['partition', 'account', 'qos', 'constraint', 'exclude'] as const) {
      const value = pick(key);
      if (value) lines.push(`--${key}=${value}`);
    }
    lines.push(`--time=${c.slurm.time}`);
    if (g === 0) {
      lines.push(c.slurm.requeue ? '--requeue' : '--no-requeue');
      const signal = c.slurm.signal || defaultSlurmSignal(c.slurm.time);
      lines.push(`--signal=${signal.startsWith('B:') ? signal : `B:${signal}`}`);
      // No --output: Slurm cannot open a file in a folder that does not exist yet (a compiled bundle
      // submitted by hand, before the job made logs/); launch passes --output on sbatch's command line.
      lines.push(...c.slurm.extra_sbatch);
    }
    for (const extra of overrides.extra_sbatch ?? []) lines.push(extra);
    return { separator: g > 0, lines };
  });
  return template('job.sbatch.hbs')({
    version: RLSTACK_VERSION,
    run_name_comment: spec.run.name,
    components: String(components.length),
    components_list: components,
    run_dir: runDir,
    artifacts_dir: location?.artifactsDir ?? `${runDir}/launcher`,
    requeue: String(c.slurm.requeue),
    offsets: plan.cluster.pools.map((p) => String(p.first_node)).join(' '),
    node_counts: plan.cluster.pools.map((p) => String(p.nodes)).join(' '),
  });
}
