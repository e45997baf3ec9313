/**
 * `rlstack launch SPEC|DIR [--backend slurm|ssh|local] [--dry-run] [--detach] [--force]`: compile into the
 * run dir (or take a compiled folder as it is), check, start and follow the start until every process is
 * ready — through the run's back end (src/launcher/lifecycle.ts). A failed start leaves nothing running and
 * says what happened (exit 3).
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { diagnostic, type Diagnostic } from '../../compiler/diagnostics/diagnostic.js';
import { shWord } from '../../runtime/shell.js';
import { renderArtifacts, type Artifact } from '../../compiler/emit/artifacts.js';
import { planSpec } from '../../compiler/pipeline.js';
import { writeArtifacts } from '../../launcher/artifacts-dir.js';
import { backendFor, readHandle } from '../../launcher/backend.js';
import { openBundle } from '../../launcher/bundle.js';
import { launchRun } from '../../launcher/lifecycle.js';
import { filesOf, prepareRunDir, readSecrets, specProblem, type LaunchFiles, type Launchable } from '../../launcher/prepare.js';
import { attempts, claimLaunch, paths, resolveRunDir } from '../../launcher/run-dir.js';
import { compareWithLaunched } from './diff.js';
import { EXIT } from '../exit-codes.js';
import { reporterOf, runDirProblem, type Output } from '../output.js';

export interface LaunchOptions {
  set: string[];
  unset?: string[];
  backend?: string;
  dryRun: boolean;
  detach: boolean;
  /** Resume even across changes prime-rl cannot resume from. */
  force?: boolean;
  /** With dryRun: keep the compiled files in this folder. */
  keep?: string;
}

/** What to launch: a spec, planned now, or a compiled folder started as compiled. */
interface Source {
  launchable: Launchable;
  runDir: string;
  files: LaunchFiles;
  /** The files as this launch would start them, for the resume comparison and the dry run. */
  artifacts: (location: { runDir: string; artifactsDir: string }) => readonly Artifact[];
  /** The compiled folder, when launching one. */
  folder?: string;
}

export async function launchCommand(target: string, options: LaunchOptions, io: Output): Promise<number> {
  const source = openSource(target, options, io);
  if (typeof source === 'number') return source;
  const { secrets, diagnostics: secretProblems } = readSecrets(source.launchable);
  if (options.dryRun) return dryRun(source, secretProblems, options.keep, io);
  if (options.keep) {
    io.diagnostics([diagnostic('RS0007', { message: '--keep only goes with --dry-run', hint: 'a launch keeps its files in the run dir (launcher/); rlstack compile -o DIR writes them anywhere' })], new Map());
    return EXIT.usage;
  }
  if (secretProblems.length) {
    io.diagnostics(secretProblems, source.launchable.sources);
    return EXIT.specErrors;
  }
  try {
    return await launch(source, secrets, options, io);
  } catch (e) {
    const problem = runDirProblem(e);
    if (!problem) throw e;
    io.diagnostics([problem], new Map());
    return EXIT.backend;
  }
}

function openSource(target: string, options: LaunchOptions, io: Output): Source | number {
  if (existsSync(target) && statSync(target).isDirectory()) {
    if (options.set.length || options.unset?.length || options.backend) {
      io.diagnostics([diagnostic('RS0007', { message: 'a compiled folder launches as it was compiled: --set, --unset and --backend change the spec', hint: `change the spec and compile again (rlstack compile SPEC -o ${target}), or launch the spec` })], new Map());
      return EXIT.usage;
    }
    const opened = openBundle(target);
    io.diagnostics(opened.diagnostics, new Map());
    if (!opened.bundle) return EXIT.specErrors;
    const { bundle } = opened;
    io.diagnostics(bundle.plan.diagnostics.filter((d) => d.severity !== 'info'), new Map());
    return { launchable: { plan: bundle.plan, sources: new Map() }, runDir: bundle.runDir, files: { folder: bundle.dir, artifacts: bundle.artifacts }, artifacts: () => bundle.artifacts, folder: bundle.dir };
  }
  const sets = options.backend ? [...options.set, `cluster.backend="${options.backend}"`] : options.set;
  const planned = planSpec(target, { sets, unsets: options.unset ?? [] });
  io.diagnostics(planned.diagnostics, planned.sources);
  if (!planned.ok) return EXIT.specErrors;
  return { launchable: planned, runDir: resolveRunDir(planned.plan.run.dir), files: filesOf(planned), artifacts: (location) => renderArtifacts(planned.resolved, planned.derived, planned.plan, location).artifacts };
}

async function launch(source: Source, secrets: Record<string, string>, options: LaunchOptions, io: Output): Promise<number> {
  const { launchable: planned, runDir } = source;
  const claim = claimLaunch(runDir);
  if ('heldBy' in claim) {
    io.diagnostics([diagnostic4012(planned, `another rlstack launch of ${runDir} is in progress${claim.heldBy ? ` (pid ${claim.heldBy})` : ''}`)], planned.sources);
    return EXIT.specErrors;
  }
  try {
    // A resume of a run that still runs would start a second copy beside it.
    const last = attempts(runDir).at(-1);
    const handle = last !== undefined ? readHandle(runDir, last) : undefined;
    if (handle) {
      const backend = await backendFor(handle.kind);
      const gone = await backend.alive(handle).finally(() => backend.close());
      if (!gone) {
        io.diagnostics([diagnostic4012(planned, `attempt ${handle.attempt} of ${runDir} is still running`)], planned.sources);
        return EXIT.specErrors;
      }
    }
    if (planned.plan.launch.resume) {
      // Show what changes against what the run was launched with, and refuse what prime-rl cannot resume from.
      const launched = compareWithLaunched(paths.artifacts(runDir), source.artifacts({ runDir, artifactsDir: source.folder ?? paths.artifacts(runDir) }));
      if (launched && !launched.diff.identical) io.out(launched.text(io.style));
      if (launched?.conflicts.length && !options.force) {
        io.diagnostics(
          [specProblem(planned, 'RS4009', { message: `cannot resume ${runDir}: ${launched.conflicts.join('; ')}`, path: 'run.resume', hint: 'undo these changes, or launch with --force to start from the checkpoint anyway' })],
          planned.sources,
        );
        return EXIT.specErrors;
      }
    }
    const prepared = prepareRunDir(planned, source.files, runDir);
    if (!prepared.prepared) {
      io.diagnostics(prepared.diagnostics, planned.sources);
      return EXIT.specErrors;
    }
    io.out(`run dir ${prepared.prepared.runDir}${source.folder ? ` (starting ${source.folder} as compiled)` : ''}`);
    io.result({ run_dir: prepared.prepared.runDir, backend: planned.plan.launch.backend, detach: options.detach });
    if (prepared.prepared.note) io.out(`note: ${prepared.prepared.note}`);
    const result = await launchRun({
      planned,
      runDir: prepared.prepared.runDir,
      artifactsDir: prepared.prepared.artifactsDir,
      secrets,
      detach: options.detach,
      report: reporterOf(io, planned.sources),
      tty: Boolean(process.stdout.isTTY) && !process.env['CI'],
      ...(process.env['RLSTACK_DEBUG'] ? { debug: (l: string) => io.err(`ssh: ${l}`) } : {}),
    });
    const attempt = attempts(prepared.prepared.runDir).at(-1);
    io.result({ outcome: result === 'ok' ? (options.detach ? 'submitted' : 'ready') : 'failed', ...(attempt !== undefined ? { attempt } : {}) });
    return result === 'ok' ? EXIT.ok : EXIT.backend;
  } finally {
    claim.release();
  }
}

function diagnostic4012(planned: Launchable, message: string) {
  return specProblem(planned, 'RS4012', { message, path: 'run.name', hint: 'rlstack status shows it; rlstack stop ends it before a new launch' });
}

/**
 * `launch --dry-run`: everything a launch would do up to the start, started nowhere — the plan, every
 * missing secret at its line, the files compiled as the launch would write them (kept with --keep DIR),
 * the job script, the commands the back end would run, each node's processes, and the scheduler's own
 * verdict (`sbatch --test-only`) — or a plain "not asked", which is not a success (exit 3).
 */
async function dryRun(source: Source, secretProblems: Diagnostic[], keep: string | undefined, io: Output): Promise<number> {
  const { launchable: planned, runDir } = source;
  if (source.folder && keep) {
    io.diagnostics([diagnostic('RS0007', { message: '--keep copies what a dry run compiles; a compiled folder is already kept', hint: `rlstack launch ${source.folder} --dry-run shows it as it is` })], new Map());
    return EXIT.usage;
  }
  // A compiled folder is shown where it is; a spec is compiled aside, as a launch would write it (its paths
  // name the run dir's launcher/, not the folder the dry run uses).
  const artifactsDir = source.folder ?? join(runDir, 'launcher');
  const dir = source.folder ?? (keep ? resolve(keep) : mkdtempSync(join(tmpdir(), 'rlstack-dry-run-')));
  try {
    const artifacts = source.artifacts({ runDir, artifactsDir });
    const refusal = source.folder ? undefined : writeArtifacts(dir, artifacts);
    if (refusal) {
      io.diagnostics([diagnostic('RS0005', { message: refusal, hint: 'keep the files in an empty folder, or one an earlier compile wrote (it has manifest.json)' })], planned.sources);
      return EXIT.specErrors;
    }
    const backendKind = planned.plan.launch.backend;
    io.out(`dry run (backend ${backendKind}): nothing is started`);
    io.out(source.folder ? `the compiled folder ${dir} (${artifacts.length} files, as compiled) would start for run dir ${runDir}` : keep ? `compiled ${artifacts.length} files into ${dir} (kept)` : `compiled ${artifacts.length} files; a launch writes them to ${artifactsDir} (--keep DIR keeps a copy)`);
    io.diagnostics(secretProblems, planned.sources);
    const jobScript = artifacts.find((a) => a.path === 'slurm/job.sbatch')?.content;
    if (jobScript) {
      io.out('job script (slurm/job.sbatch):');
      for (const line of jobScript.trimEnd().split('\n')) io.out(`  ${line}`);
    }
    const backend = await backendFor(backendKind);
    let outcome;
    try {
      outcome = await backend.dryRun({ planned, runDir, artifactsDir, compiledDir: dir, secretNames: Object.keys(planned.plan.launch.secrets) });
    } finally {
      backend.close();
    }
    io.out('the launcher would run:');
    for (const command of outcome.commands) io.out(`  ${command}`);
    const nodes = nodeProcesses(planned);
    io.out("each node's processes, in start order:");
    for (const node of nodes) {
      io.out(`  node ${node.node}${node.host ? ` (${node.host})` : ''}:`);
      for (const p of node.processes) io.out(`    ${p.name}${p.gpus.length ? ` [GPU ${p.gpus.join(',')}]` : ''}: ${p.command}`);
    }
    for (const line of outcome.lines) io.out(line);
    io.diagnostics(outcome.diagnostics, planned.sources);
    const missing = secretProblems.map((d) => d.path?.replace(/^secrets\./, '') ?? d.message);
    if (outcome.schedulerAsked !== null) io.out(outcome.schedulerAsked ? `the scheduler was asked: ${outcome.ok ? 'it would accept the job' : 'it refuses the job'}` : 'the scheduler was NOT asked');
    if (missing.length) io.out(`a launch would stop here: missing secret${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
    io.result({
      dry_run: true,
      backend: backendKind,
      scheduler_asked: outcome.schedulerAsked,
      ...(outcome.schedulerAnswer !== undefined ? { scheduler_answer: outcome.schedulerAnswer } : {}),
      would_start: outcome.ok && missing.length === 0,
      missing_secrets: missing,
      kept: keep ? dir : null,
      job_script: jobScript ?? null,
      commands: outcome.commands,
      nodes,
    });
    if (missing.length || (!outcome.ok && outcome.schedulerAsked)) return EXIT.specErrors;
    return outcome.ok ? EXIT.ok : EXIT.backend;
  } finally {
    if (!keep && !source.folder) rmSync(dir, { recursive: true, force: true });
  }
}

/** Per node, its processes in start order with their command lines as node.sh runs them (quoted once). */
function nodeProcesses(planned: Launchable): { node: number; host: string | null; processes: { name: string; gpus: number[]; command: string; env: Record<string, string>; secrets: string[] }[] }[] {
  return planned.plan.nodes.map((n) => ({
    node: n.index,
    host: n.host ?? null,
    processes: planned.plan.processes
      .filter((p) => p.node === n.index)
      .sort((a, b) => a.order - b.order)
      .map((p) => ({ name: p.name, gpus: p.gpus, command: p.command.map(shWord).join(' '), env: p.env, secrets: p.secrets })),
  }));
}
