/**
 * Rollout lengths. A rollout is a prompt of p̄ tokens and a completion whose length o follows a Gamma
 * distribution with mean ō and coefficient of variation cv (cv = 1: exponential, reference §6.2; cv = 0: every
 * completion the same length, as in fixed-ISL/OSL benchmarks). What the model needs from it:
 *
 *   decode context   c̄ = p̄ + E[o²] / (2·E[o]) = p̄ + ō·(1 + cv²)/2   (a sequence is in flight for o steps at
 *                     mean context p̄ + o/2: the in-flight population is length-biased, reference §6.2)
 *   trained length   l_eff = E[l²] / E[l],  l = p̄ + o                 (attention costs ∝ l² per sample)
 *   attention spread cv of l² across samples                         (DP ranks wait for the slowest, trainer.ts)
 */

export interface LengthModel {
  prompt: number;
  /** Mean completion tokens ō. */
  output: number;
  cv: number;
}

/** E[o^j] of the Gamma completion length: θ^j · κ(κ+1)…(κ+j−1), κ = 1/cv², θ = ō·cv². */
export function outputMoment(m: LengthModel, j: number): number {
  if (m.cv <= 0 || m.output <= 0) return Math.pow(Math.max(0, m.output), j);
  const shape = 1 / (m.cv * m.cv);
  const scale = m.output * m.cv * m.cv;
  let v = 1;
  for (let i = 0; i < j; i++) v *= scale * (shape + i);
  return v;
}

/** E[(p + o)^j] by the binomial expansion. */
function sampleMoment(m: LengthModel, j: number): number {
  let sum = 0;
  let binom = 1;
  for (let i = 0; i <= j; i++) {
    sum += binom * Math.pow(m.prompt, j - i) * outputMoment(m, i);
    binom = (binom * (j - i)) / (i + 1);
  }
  return sum;
}

/** c̄: mean context of the sequences decoding at any moment. */
export function meanDecodeContext(m: LengthModel): number {
  if (m.output <= 0) return m.prompt;
  return m.prompt + outputMoment(m, 2) / (2 * m.output);
}

/** l_eff = E[l²]/E[l]: the sample length whose attention cost per token is the population's, capped at the packed length. */
export function effectiveTrainLength(m: LengthModel, seqLen: number): number {
  const mean = m.prompt + m.output;
  if (mean <= 0) return 0;
  return Math.min(seqLen, sampleMoment(m, 2) / mean);
}

/** Coefficient of variation of l² across samples (the attention cost of one sample). */
export function attentionCostCv(m: LengthModel): number {
  const e2 = sampleMoment(m, 2);
  const e4 = sampleMoment(m, 4);
  if (e2 <= 0) return 0;
  return Math.sqrt(Math.max(0, e4 / (e2 * e2) - 1));
}
