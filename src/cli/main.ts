/**
 * The CLI: commander wiring only. Commands are imported when they run, so `plan` does not load what
 * `launch` needs (start-up time is part of the product). Each command is one function returning an exit code (SPEC §2); nothing
 * here throws to the user — an unexpected failure is reported as RS9001 without a stack trace (set
 * RLSTACK_DEBUG=1 to see it).
 */
import { Command, CommanderError, Option } from 'commander';
import { RLSTACK_VERSION } from '../version.js';
import { EXIT } from './exit-codes.js';
import { diagnostic } from '../compiler/diagnostics/diagnostic.js';
import { createOutput, type ViewKind } from './output.js';

const collect = (value: string, previous: string[]) => [...previous, value];

export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const color = !argv.includes('--no-color');
  const io = createOutput({ color, view: viewOf(argv) });
  const program = new Command('rlstack')
    .description('Compile one TOML spec into a placement plan and launch artifacts for a prime-rl run.')
    .version(RLSTACK_VERSION, '-V, --version')
    .option('--no-color', 'plain output (also with NO_COLOR set)')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });

  const setOption = () => new Option('--set <key=value>', 'override a key (TOML value syntax); repeatable').argParser(collect).default([] as string[]);
  const unsetOption = () => new Option('--unset <key>', 'remove a key the spec inherits (e.g. trainer.gpus), before the --set overrides; repeatable').argParser(collect).default([] as string[]);
  const jsonOption = () => new Option('--json', 'print JSON');
  const noColor = () => new Option('--no-color', 'plain output');

  program
    .command('plan')
    .description('resolve, validate and place: print the placement (writes nothing)')
    .argument('<spec>', 'spec file')
    .addOption(setOption())
    .addOption(unsetOption())
    .addOption(jsonOption())
    .option('--html <file>', 'also write the plan as one self-contained HTML page')
    .option('--auto', 'search the trainer/inference split, parallelism, memory knobs and max_inflight for predicted throughput (docs/plan-auto.md)')
    .option('--objective <objective>', 'with --auto: maximise samples (default) or tokens per second')
    .option('--write <file>', 'with --auto: write the best candidate as a layer that extends the spec')
    .addOption(noColor())
    .action(async (spec: string, opts: { set: string[]; unset: string[]; json?: boolean; html?: string; auto?: boolean; objective?: string; write?: string }) => {
      if (opts.auto || opts.objective !== undefined || opts.write !== undefined) {
        const auto = await import('./commands/plan-auto.js');
        if (!opts.auto) code = auto.planUsageError(io, `${opts.objective !== undefined ? '--objective' : '--write'} only goes with --auto`, 'rlstack plan --auto SPEC [--objective samples|tokens] [--write FILE]');
        else if (opts.html) code = auto.planUsageError(io, '--html does not go with --auto', 'plan the layer --auto --write FILE writes: rlstack plan FILE --html PAGE');
        else code = auto.planAutoCommand(spec, { set: opts.set, unset: opts.unset, json: Boolean(opts.json), ...(opts.objective !== undefined ? { objective: opts.objective } : {}), ...(opts.write !== undefined ? { write: opts.write } : {}) }, io);
        return;
      }
      code = await (await import('./commands/plan.js')).planCommand(spec, { set: opts.set, unset: opts.unset, json: Boolean(opts.json), ...(opts.html ? { html: opts.html } : {}) }, io);
    });

  program
    .command('compile')
    .description('plan, then write every artifact (prime-rl configs, node plans, node.sh, job scripts) into a folder')
    .argument('<spec>', 'spec file')
    .requiredOption('-o, --out <dir>', 'output folder')
    .addOption(setOption())
    .addOption(unsetOption())
    .addOption(jsonOption())
    .addOption(noColor())
    .action(async (spec: string, opts: { set: string[]; unset: string[]; out: string; json?: boolean }) => {
      code = await (await import('./commands/compile.js')).compileCommand(spec, { set: opts.set, unset: opts.unset, out: opts.out, json: Boolean(opts.json) }, io);
    });

  program
    .command('launch')
    .description('compile into the run dir, check the nodes, start the run and follow it until every process is ready')
    .argument('<spec>', 'spec file, or a folder rlstack compile -o DIR wrote (started as compiled)')
    .addOption(new Option('--backend <backend>', 'override cluster.backend').choices(['slurm', 'ssh', 'local']))
    .option('--dry-run', 'compile and test the request (sbatch --test-only); start nothing')
    .option('--detach', 'return once the job is submitted (Slurm)')
    .option('--force', 'resume even across changes prime-rl cannot resume from')
    .option('--keep <dir>', 'with --dry-run: keep the compiled files (job script, node plans) in this folder')
    .addOption(setOption())
    .addOption(unsetOption())
    .addOption(new Option('--json', 'print JSON lines (type: line, process, diagnostic, result)'))
    .addOption(noColor())
    .action(async (spec: string, opts: { set: string[]; unset: string[]; backend?: string; dryRun?: boolean; detach?: boolean; force?: boolean; keep?: string }) => {
      code = await (await import('./commands/launch.js')).launchCommand(spec, { set: opts.set, unset: opts.unset, ...(opts.backend ? { backend: opts.backend } : {}), dryRun: Boolean(opts.dryRun), detach: Boolean(opts.detach), force: Boolean(opts.force), ...(opts.keep ? { keep: opts.keep } : {}) }, io);
    });

  program
    .command('preflight')
    .description('check every node over SSH (reachable, GPUs, shared run dir, prime-rl, ports, disk, memory); start nothing')
    .argument('<spec>', 'spec file')
    .addOption(setOption())
    .addOption(unsetOption())
    .addOption(jsonOption())
    .addOption(noColor())
    .action(async (spec: string, opts: { set: string[]; unset: string[] }) => {
      code = await (await import('./commands/preflight.js')).preflightCommand(spec, { set: opts.set, unset: opts.unset }, io);
    });

  program
    .command('status')
    .description('per process: node, state, since, last log line')
    .argument('<target>', 'spec file or run dir')
    .addOption(setOption())
    .addOption(jsonOption())
    .addOption(noColor())
    .action(async (target: string, opts: { set: string[]; json?: boolean }) => {
      code = await (await import('./commands/status.js')).statusCommand(target, { set: opts.set, json: Boolean(opts.json) }, io);
    });

  program
    .command('logs')
    .description('merged, prefixed logs of the latest attempt')
    .argument('<target>', 'spec file or run dir')
    .option('--role <role>', 'only this role (inference, router, trainer, orchestrator, env_server, node)')
    .option('--node <n>', 'only this node')
    .option('-f, --follow', 'keep printing until the run ends')
    .addOption(setOption())
    .addOption(new Option('--json', 'print JSON lines (type: log, line, diagnostic, result)'))
    .addOption(noColor())
    .action(async (target: string, opts: { set: string[]; role?: string; node?: string; follow?: boolean }) => {
      code = await (await import('./commands/logs.js')).logsCommand(target, { set: opts.set, ...(opts.role ? { role: opts.role } : {}), ...(opts.node ? { node: opts.node } : {}), follow: Boolean(opts.follow) }, io);
    });

  program
    .command('stop')
    .description('ordered teardown of the run on every node; reports anything left running')
    .argument('<target>', 'spec file or run dir')
    .addOption(setOption())
    .addOption(jsonOption())
    .addOption(noColor())
    .action(async (target: string, opts: { set: string[]; json?: boolean }) => {
      code = await (await import('./commands/stop.js')).stopCommand(target, { set: opts.set, json: Boolean(opts.json) }, io);
    });

  program
    .command('explain')
    .description('the resolved value of a key and where it came from')
    .argument('<spec>', 'spec file')
    .argument('<key>', 'key path, e.g. trainer.ep or environments[0].weight')
    .addOption(setOption())
    .addOption(unsetOption())
    .addOption(jsonOption())
    .addOption(noColor())
    .action(async (spec: string, key: string, opts: { set: string[]; unset: string[]; json?: boolean }) => {
      code = await (await import('./commands/explain.js')).explainCommand(spec, key, { set: opts.set, unset: opts.unset, json: Boolean(opts.json) }, io);
    });

  program
    .command('diff')
    .description('what changes between two specs or compiled folders (+ ~ -); exit 4 when they differ')
    .argument('<a>', 'spec file or compiled folder (compile -o DIR, or a run dir\'s launcher/)')
    .argument('<b>', 'spec file or compiled folder')
    .addOption(jsonOption())
    .addOption(noColor())
    .action(async (a: string, b: string, opts: { json?: boolean }) => {
      code = await (await import('./commands/diff.js')).diffCommand(a, b, { json: Boolean(opts.json) }, io);
    });

  program
    .command('schema')
    .description('print the JSON Schema of the spec')
    .action(async () => {
      code = await (await import('./commands/schema.js')).schemaCommand(io);
    });

  program
    .command('presets')
    .description('list the presets')
    .addOption(jsonOption())
    .addOption(noColor())
    .action(async (opts: { json?: boolean }) => {
      code = (await import('./commands/presets.js')).presetsCommand({ json: Boolean(opts.json) }, io);
    });

  program
    .command('gpus')
    .description('list the GPU catalogue (memory, bf16 TFLOP/s, bandwidth, fp8, source)')
    .addOption(jsonOption())
    .addOption(noColor())
    .action(async (opts: { json?: boolean }) => {
      code = (await import('./commands/catalogues.js')).gpusCommand({ json: Boolean(opts.json) }, io);
    });

  program
    .command('models')
    .description('list the model catalogue (parameters, experts, Hugging Face ids, source)')
    .addOption(jsonOption())
    .addOption(noColor())
    .action(async (opts: { json?: boolean }) => {
      code = (await import('./commands/catalogues.js')).modelsCommand({ json: Boolean(opts.json) }, io);
    });

  program
    .command('init')
    .description('write a starter spec that extends a preset')
    .argument('[file]', 'file to write', 'rlstack.toml')
    .requiredOption('--preset <name>', 'preset to start from')
    .option('--force', 'overwrite an existing file')
    .addOption(jsonOption())
    .addOption(noColor())
    .action(async (file: string, opts: { preset: string; force?: boolean }) => {
      code = (await import('./commands/presets.js')).initCommand(file, { preset: opts.preset, force: Boolean(opts.force) }, io);
    });

  // Commands that only compute and write files run to the end of their (short, synchronous) work before a
  // Ctrl-C or TERM takes effect: output is whole or absent, never half-written (launch, logs -f and stop
  // handle interruption themselves).
  const interrupted = viewOf(argv) !== 'json-lines' && !['launch', 'logs', 'stop', 'status', 'preflight'].includes(commandOf(argv) ?? '') ? deferInterrupts() : undefined;
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT.ok;
      // commander has said it on stderr; a JSON reader still gets its envelope.
      io.diagnostics([diagnostic('RS0007', { message: error.message.replace(/^error: /, ''), hint: 'rlstack help <command> lists its arguments and options' })], new Map());
      code = EXIT.usage;
    } else {
      io.err(`rlstack: internal error RS9001: ${(error as Error).message ?? String(error)}`);
      io.err('This is a bug in rlstack; please report it with the spec that caused it.');
      if (process.env['RLSTACK_DEBUG']) io.err((error as Error).stack ?? '');
      if (io.view !== 'human') io.diagnostics([diagnostic('RS9001', { message: (error as Error).message ?? String(error), hint: 'this is a bug in rlstack; please report it with the spec that caused it' })], new Map());
      code = EXIT.specErrors;
    }
  }
  // A signal that arrived during synchronous work is delivered on the next turn of the event loop.
  if (interrupted) await new Promise((r) => setTimeout(r, 0)).then(() => new Promise((r) => setImmediate(r)));
  if (interrupted?.signal) {
    io.err(`rlstack: interrupted (${interrupted.signal}); the command had already finished, its output is whole`);
    code = 130;
  }
  interrupted?.dispose();
  io.finish(code);
  return code;
}

function deferInterrupts(): { signal?: NodeJS.Signals; dispose(): void } {
  const state: { signal?: NodeJS.Signals; dispose(): void } = {
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
  // A second one means it: exit at once (a command stuck on a slow file system is not kept alive).
  const onSignal = (signal: NodeJS.Signals) => {
    if (state.signal) process.exit(130);
    state.signal = signal;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return state;
}

function commandOf(argv: readonly string[]): string | undefined {
  return argv.find((a) => !a.startsWith('-'));
}

/** `--json` asks for the JSON view; the commands that stream (launch, logs) write it as JSON lines. */
function viewOf(argv: readonly string[]): ViewKind {
  const end = argv.indexOf('--');
  const args = end === -1 ? argv : argv.slice(0, end);
  if (!args.includes('--json')) return 'human';
  const command = commandOf(args);
  return command === 'launch' || command === 'logs' ? 'json-lines' : 'json';
}
