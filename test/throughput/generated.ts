/** The tables docs/throughput-model.md carries, generated from the code (docs.test.ts holds the file to them). */
import { readFileSync } from 'node:fs';
import { presetPath } from '../../src/compiler/load/compose.js';
import { planSpec } from '../../src/compiler/pipeline.js';
import { anchorTable, intellect3Production, throughputTable } from '../../src/compiler/throughput/anchors.js';
import { calibrateThroughput, calibrationTable, leaveOneOut, type ThroughputCalibrationRow } from '../../src/compiler/throughput/calibration.js';
import { throughputInputFromPlan } from '../../src/compiler/throughput/from-plan.js';
import { throughputOf } from '../../src/compiler/throughput/index.js';

export const DOC = 'docs/throughput-model.md';
export const PRESETS = ['intellect3', 'i3-mini', 'single-node', 'tiny'];

export function generatedSections(): Record<string, string> {
  const rows = JSON.parse(readFileSync('src/compiler/memory/calibration-benchmarks.json', 'utf8')) as ThroughputCalibrationRow[];
  const presets = PRESETS.map((name) => {
    const r = planSpec(presetPath(name));
    if (!r.ok) throw new Error(`preset ${name} does not plan`);
    return { name, t: throughputOf(throughputInputFromPlan(r.resolved.spec, r.derived)!) };
  });
  presets.push({ name: 'INTELLECT-3 production, 16 + 28 nodes (B1, §6.8 lengths)', t: throughputOf(intellect3Production(16)) });
  return {
    calibration: calibrationTable(calibrateThroughput(rows), leaveOneOut(rows)),
    anchors: anchorTable(),
    presets: throughputTable(presets),
  };
}

/** The text between `<!-- generated: NAME -->` and `<!-- /generated: NAME -->`. */
export function sectionOf(doc: string, name: string): string | undefined {
  const open = `<!-- generated: ${name} -->`;
  const close = `<!-- /generated: ${name} -->`;
  const a = doc.indexOf(open);
  const b = doc.indexOf(close);
  if (a < 0 || b < a) return undefined;
  return doc.slice(a + open.length, b).trim();
}

export function withSections(doc: string, sections: Record<string, string>): string {
  let out = doc;
  for (const [name, text] of Object.entries(sections)) {
    const open = `<!-- generated: ${name} -->`;
    const close = `<!-- /generated: ${name} -->`;
    const a = out.indexOf(open);
    const b = out.indexOf(close);
    if (a < 0 || b < a) throw new Error(`${DOC} lacks the markers of ${name}`);
    out = `${out.slice(0, a + open.length)}\n${text}\n${out.slice(b)}`;
  }
  return out;
}
