/**
 * `rlstack plan --auto SPEC`: search the split, parallelism, memory knobs and max_inflight for predicted
 * throughput (src/compiler/auto, docs/plan-auto.md), print the best few against the spec as written, and
 * with --write FILE write the best as a layer that extends SPEC.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import { LAYER_MARKER, layerText, setWritable } from '../../compiler/auto/layer.js';
import { searchAuto } from '../../compiler/auto/search.js';
import { OBJECTIVES, type AutoCandidate, type AutoResult, type MemoryHeadroom, type Objective, type Overrides } from '../../compiler/auto/types.js';
import { diagnostic, hasErrors, type Diagnostic } from '../../compiler/diagnostics/diagnostic.js';
import { listPresets, presetPath } from '../../compiler/load/compose.js';
import { positionOf } from '../../compiler/load/provenance.js';
import { resolveSpec } from '../../compiler/resolve.js';
import type { ThroughputSummary } from '../../compiler/throughput/summary.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';

export interface PlanAutoOptions {
  set: string[];
  unset: string[];
  json: boolean;
  objective?: string;
  write?: string;
}

/** --objective / --write without --auto, or --html with it: a usage error, like the other commands'. */
export function planUsageError(io: Output, message: string, hint: string): number {
  io.diagnostics([diagnostic('RS0007', { message, hint })], new Map());
  return EXIT.usage;
}

export function planAutoCommand(spec: string, options: PlanAutoOptions, io: Output): number {
  const objective = (options.objective ?? 'samples') as Objective;
  if (!OBJECTIVES.includes(objective)) return planUsageError(io, `--objective ${options.objective}: not an objective`, `--objective ${OBJECTIVES.join(' or ')} (per second; default samples)`);
  const unwritable = options.set.find((s) => !setWritable(s));
  if (options.write && unwritable) return planUsageError(io, `--write cannot carry --set ${unwritable} into a layer (no TOML dotted key spells it)`, 'write that value into the spec itself, then run plan --auto --write again');

  // a FILE that may not be written is refused before the search, not after it
  const target = options.write !== undefined ? writeTarget(spec, options.write) : undefined;
  if (target && 'problem' in target) {
    io.diagnostics([target.problem], new Map());
    return EXIT.specErrors;
  }

  const resolved = resolveSpec(spec, { sets: options.set, unsets: options.unset });
  if (!resolved.ok) {
    io.diagnostics(resolved.diagnostics, resolved.sources);
    return EXIT.specErrors;
  }
  const result = searchAuto(resolved.resolved, { objective, loadDiagnostics: resolved.diagnostics });
  const diagnostics: Diagnostic[] = [...resolved.diagnostics];
  if (!result.best) {
    diagnostics.push(
      // at the cluster's size: what the hint asks to change first
      diagnostic('RS2014', {
        path: 'cluster.nodes',
        at: positionOf(resolved.resolved.provenance, 'cluster.nodes'),
        message: `plan --auto found no candidate that plans clean among ${result.searched.evaluated} evaluated (${result.searched.planned} planned in full)${result.baseline.ok ? '' : `; the spec as written does not plan either (${result.baseline.problems.join(', ')})`}`,
        hint: 'the cluster may be too small for the model at this seq_len: rlstack plan SPEC names what does not fit and by how much; add nodes, shorten model.seq_len, or lower orchestrator.batch_size',
      }),
    );
  }

  let written: string | null = null;
  if (target && result.best) {
    const outcome = writeLayer(target, options, result, result.best);
    if ('problem' in outcome) diagnostics.push(outcome.problem);
    else written = outcome.file;
  }

  if (options.json) {
    io.result({ auto: { objective: result.objective, baseline: result.baseline, best: result.best, candidates: result.candidates, searched: result.searched, written } });
  } else {
    io.out(renderAuto(resolved.resolved.file, result, io.style.bold));
    if (written) io.out(`wrote ${written} (extends ${resolved.resolved.file}); rlstack plan ${written} plans it`);
    else if (result.best && !options.write && Object.keys(result.best.overrides).length) io.out(`write the best as a layer over the spec: rlstack plan --auto ${spec} --write FILE`);
  }
  io.diagnostics(diagnostics, resolved.resolved.sources);
  return hasErrors(diagnostics) ? EXIT.specErrors : EXIT.ok;
}

/**
 * Where --write goes: never over the original spec; an existing FILE only when its first line says plan
 * --auto wrote it (a layer to refresh, not a spec someone edits).
 */
function writeTarget(spec: string, file: string): { original: string; target: string; file: string } | { problem: Diagnostic } {
  const original = !existsSync(resolve(spec)) && listPresets().includes(spec) ? presetPath(spec) : resolve(spec);
  const target = resolve(file);
  if (target === original) return { problem: diagnostic('RS0005', { message: `--write ${file} is the spec being searched: plan --auto never overwrites it`, hint: 'write the layer to another file, e.g. --write auto.toml next to it' }) };
  if (existsSync(target)) {
    let first = '';
    try {
      first = readFileSync(target, 'utf8').split('\n', 1)[0] ?? '';
    } catch {
      // unreadable: treated as someone else's file
    }
    if (first !== LAYER_MARKER) return { problem: diagnostic('RS0005', { message: `${file} already exists and plan --auto did not write it`, hint: `choose another file, or remove it; a layer plan --auto wrote (first line "${LAYER_MARKER}") is replaced` }) };
  }
  return { original, target, file };
}

/** The best candidate as a layer over the original. */
function writeLayer(where: { original: string; target: string; file: string }, options: PlanAutoOptions, result: AutoResult, best: AutoCandidate): { file: string } | { problem: Diagnostic } {
  const { original, target } = where;
  let extendsPath = relative(dirname(target), original).split(sep).join('/');
  if (!extendsPath.startsWith('.')) extendsPath = `./${extendsPath}`;
  const unit = result.objective === 'tokens' ? 'tokens/s' : 'samples/s';
  const score = (t: ThroughputSummary) => (result.objective === 'tokens' ? t.tokens_per_s : t.samples_per_s);
  const text = layerText({
    extendsPath,
    unsets: options.unset,
    sets: options.set,
    overrides: best.overrides,
    notes: [
      `objective ${unit}: ${score(best.throughput)} predicted${result.baseline.throughput ? ` against ${score(result.baseline.throughput)} as written (${best.reason})` : ' (the spec as written does not plan)'}`,
      `step ${best.throughput.step_time_s} s, bottleneck ${best.throughput.bottleneck}; docs/plan-auto.md`,
    ],
  });
  try {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
  } catch (error) {
    return { problem: diagnostic('RS0005', { message: `cannot write ${where.file}: ${(error as Error).message}`, hint: 'check the folder and its permissions' }) };
  }
  return { file: where.file };
}

// ------------------------------------------------------------------------------------------------ the table

export function renderAuto(file: string, result: AutoResult, bold: (s: string) => string = (s) => s): string {
  const unit = result.objective === 'tokens' ? 'tokens/s' : 'samples/s';
  const s = result.searched;
  const lines = [
    bold(`rlstack plan --auto — ${file} (objective ${unit})`),
    `  searched  split: ${s.split}; ${s.evaluated} candidates evaluated, ${s.planned} planned in full, ${s.seconds.toFixed(1)} s`,
    '',
  ];
  const header = ['', 'step', 'bottleneck', 'free memory (tightest GPU)', unit, '× spec', 'why'];
  const rows: string[][] = [];
  const b = result.baseline;
  rows.push(['as written', b.throughput ? seconds(b.throughput.step_time_s) : '-', b.throughput?.bottleneck ?? '-', headroom(b.memory_headroom), b.throughput ? figure(result.objective, b.throughput) : '-', b.throughput ? '1.00×' : '-', b.ok ? 'the spec as written' : `does not plan: ${b.problems.join(', ')}`]);
  const details: (string | undefined)[] = [undefined];
  result.candidates.forEach((c, i) => {
    rows.push([String(i + 1), seconds(c.throughput.step_time_s), c.throughput.bottleneck, headroom(c.memory_headroom), figure(result.objective, c.throughput), c.vs_spec === null ? '-' : `${c.vs_spec.toFixed(2)}×`, c.reason]);
    details.push(overridesText(c.overrides));
  });
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k]!.length)));
  const line = (cells: string[]) => `  ${cells.map((c, k) => (k === cells.length - 1 ? c : k === 0 || k === 2 || k === 3 ? c.padEnd(widths[k]!) : c.padStart(widths[k]!))).join('  ')}`.trimEnd();
  lines.push(line(header));
  rows.forEach((r, k) => {
    lines.push(line(r));
    if (details[k] !== undefined) lines.push(`  ${' '.repeat(widths[0]!)}  ${details[k]}`);
  });
  if (!result.candidates.length) lines.push('  (no candidate plans clean)');
  return lines.join('\n');
}

function overridesText(o: Overrides): string {
  const entries = Object.entries(o);
  return entries.length ? entries.map(([k, v]) => `${k} = ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`).join(', ') : '(as written)';
}

function seconds(s: number): string {
  return s >= 100 ? `${Math.round(s)} s` : `${s.toPrecision(3)} s`;
}

function figure(objective: Objective, t: ThroughputSummary): string {
  return objective === 'tokens' ? Math.round(t.tokens_per_s).toLocaleString('en-US') : t.samples_per_s.toPrecision(4);
}

function headroom(h: MemoryHeadroom | null): string {
  if (!h) return '-';
  const gib = h.tightest === 'inference' ? h.inference_gib! : h.trainer_gib;
  const share = h.tightest === 'inference' ? h.inference_share! : h.trainer_share;
  return `${h.tightest} ${gib.toFixed(1)} GiB (${Math.round(share * 100)} %)`;
}
