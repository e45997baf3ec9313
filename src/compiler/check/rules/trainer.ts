/**
 * Trainer parallelism, as prime-rl's `trainer/parallel_dims.py` checks it at start-up — here, before the
 * queue: dp_replicate and cp divide the world, EP divides the experts and dp_shard·cp, EP is a multiple of
 * cp, CP divides the attention heads.
 */
import { isMoe } from '../../catalog/models.js';
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import { divisors, plural, report, type Rule } from '../context.js';

export const trainerWorldDivides: Rule = (ctx) => {
  const { world, dpReplicate, cp } = ctx.derived.trainerParallelism;
  if (world === 0) return [];
  const out: Diagnostic[] = [];
  if (world % dpReplicate !== 0) {
    out.push(
      report(ctx, 'RS1202', 'trainer.dp_replicate', {
        message: `trainer.dp_replicate = ${dpReplicate} does not divide the ${plural(world, 'trainer GPU')}`,
        hint: `valid values: ${divisors(world).join(', ')}`,
      }),
    );
  } else if ((world / dpReplicate) % cp !== 0) {
    out.push(
      report(ctx, 'RS1201', 'trainer.cp', {
        message: `trainer.cp = ${cp} does not divide the ${world / dpReplicate} GPUs of one replica (${world} GPUs / dp_replicate ${dpReplicate})`,
        hint: `valid values: ${divisors(world / dpReplicate).join(', ')}`,
      }),
    );
  }
  return out;
};

export const expertParallelValid: Rule = (ctx) => {
  const arch = ctx.derived.arch;
  const p = ctx.derived.trainerParallelism;
  if (!arch || p.world === 0 || !Number.isInteger(p.dpShard)) return [];
  const out: Diagnostic[] = [];
  const how = p.epIsAuto ? ` (ep = "auto" resolves to min(${p.world} / ${p.dpReplicate}, 8) = ${p.ep}, as prime-rl does)` : '';
  if (!isMoe(arch)) {
    if (!p.epIsAuto && p.ep > 1) {
      out.push(report(ctx, 'RS1207', 'trainer.ep', { message: `trainer.ep = ${p.ep}, but ${arch.id} is a dense model with no experts`, hint: 'remove trainer.ep or set it to 1' }));
    }
    return out;
  }
  // One value, one diagnostic: every constraint it breaks is named, and the hint lists the values that meet all.
  const broken: { code: 'RS1203' | 'RS1204' | 'RS1205'; why: string }[] = [];
  if (arch.experts % p.ep !== 0) broken.push({ code: 'RS1203', why: `does not divide the ${arch.experts} experts of ${arch.id}` });
  if (p.ep > 1 && (p.dpShard * p.cp) % p.ep !== 0) broken.push({ code: 'RS1204', why: `does not divide dp_shard × cp = ${p.dpShard} × ${p.cp} = ${p.dpShard * p.cp}` });
  if (p.ep > 1 && p.ep % p.cp !== 0) broken.push({ code: 'RS1205', why: `is not a multiple of trainer.cp = ${p.cp} (prime-rl needs ep % cp == 0)` });
  if (broken.length) {
    const valid = divisors(p.dpShard * p.cp).filter((d) => arch.experts % d === 0 && (d === 1 || d % p.cp === 0));
    out.push(
      report(ctx, broken[0]!.code, 'trainer.ep', {
        message: `trainer.ep = ${p.ep} ${broken.map((b) => b.why).join(', and ')}${how}`,
        hint: `valid values: ${valid.join(', ')}`,
      }),
    );
  }
  return out;
};

export const contextParallelDividesHeads: Rule = (ctx) => {
  const arch = ctx.derived.arch;
  const cp = ctx.spec.trainer.cp;
  if (!arch || cp === 1) return [];
  // Ulysses scatters attention heads across the CP group; ring attention splits the sequence instead.
  if (ctx.spec.trainer.cp_style === 'ulysses' && arch.heads % cp !== 0) {
    return [
      report(ctx, 'RS1206', 'trainer.cp', {
        message: `trainer.cp = ${cp} does not divide the ${arch.heads} attention heads of ${arch.id} (ulysses scatters heads)`,
        hint: `valid values: ${divisors(arch.heads).join(', ')}; or cp_style = "ring"`,
      }),
    ];
  }
  return [];
};
