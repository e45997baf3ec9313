// Stand-in `uv`: only `uv run --no-sync <program> <args…>` inside the fake prime-rl checkout, dispatching
// to the stand-in program (test/standins/README.md). Started by <prime-rl dir>/bin/uv.
import fs from 'node:fs';
import path from 'node:path';
import { banner, checkKnobFile, checkNoUnexpanded, ctx, fail, installProcessHandlers, primeRlDir, say } from './lib.mjs';

// The console scripts of the fake venv (<dir>/.venv/bin/, made by make-prime-rl.mjs). `vllm-router` ships only
// with prime-rl's `disagg` extra; `hf` comes with huggingface_hub (1.16.1 in prime-rl's uv.lock), which no
// longer has `huggingface-cli`.
const PROGRAMS = ['inference', 'vllm-router', 'torchrun', 'orchestrator', 'env-server', 'hf'];

const argv = process.argv.slice(2);
installProcessHandlers();

if (argv.length === 1 && (argv[0] === '--version' || argv[0] === 'version')) {
  say('uv 0.8.0 (rlstack stand-in)');
  process.exit(0);
}

// Which program (for the banner), before judging the rest.
let i = argv[0] === 'run' ? 1 : 0;
const uvOptions = [];
while (i < argv.length && argv[i].startsWith('-')) uvOptions.push(argv[i++]);
const program = argv[0] === 'run' ? argv[i] : undefined;
const args = argv.slice(i + 1);
if (program !== undefined && PROGRAMS.includes(program)) ctx.program = program;
banner(argv);
checkKnobFile();

if (argv[0] !== 'run') fail(`only "uv run --no-sync <program> …" is supported, got "uv ${argv.join(' ')}"`);
if (!uvOptions.includes('--no-sync')) {
  fail(`"uv run" without --no-sync would re-sync the shared prime-rl venv on every start (got "uv ${argv.join(' ')}")`);
}
const extra = uvOptions.filter((o) => o !== '--no-sync');
if (extra.length) fail(`unsupported uv option(s) ${extra.join(' ')} (rlstack runs exactly "uv run --no-sync <program>")`);
if (program === undefined) fail('"uv run --no-sync" without a program');

const dir = primeRlDir();
// uv run looks the program up in the project's .venv/bin (then PATH); a missing one fails like this, exit 2.
if (!/\//.test(program) && !fs.existsSync(path.join(dir, '.venv', 'bin', program))) {
  try {
    fs.writeSync(2, `error: Failed to spawn: \`${program}\`\n  Caused by: No such file or directory (os error 2)\n`);
  } catch {
    /* stderr gone */
  }
  process.exit(2);
}
if (!PROGRAMS.includes(program)) fail(`unknown program "${program}" (the fake prime-rl provides ${PROGRAMS.join(', ')})`);

let cwd;
try {
  cwd = fs.realpathSync(process.cwd());
} catch (e) {
  fail(`the working directory is gone: ${e.code || e.message}`);
}
if (cwd !== fs.realpathSync(dir)) fail(`uv run must start in the prime-rl dir ${dir}, but the working directory is ${process.cwd()}`);
if (!fs.existsSync(path.join(dir, 'pyproject.toml'))) fail(`no pyproject.toml in ${dir}`);
if (!fs.statSync(path.join(dir, '.venv'), { throwIfNoEntry: false })?.isDirectory()) fail(`no .venv in ${dir}: uv run --no-sync needs the synced venv`);
checkNoUnexpanded(args);

const mod = await import(`./${program}.mjs`);
await mod.main(args);
