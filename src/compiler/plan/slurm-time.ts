/** Slurm time limits, and the time-limit warning rlstack derives from one when the spec sets none. */

/** Slurm's time formats: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S → seconds (undefined when not one of them). */
export function slurmTimeSeconds(text: string): number | undefined {
  const m = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$/.exec(text);
  if (!m) return undefined;
  const [, d, a, b, c] = m;
  const n = (x: string | undefined) => (x === undefined ? 0 : Number(x));
  if (d !== undefined) return n(d) * 86400 + n(a) * 3600 + n(b) * 60 + n(c);
  if (c !== undefined) return n(a) * 3600 + n(b) * 60 + n(c);
  if (b !== undefined) return n(a) * 60 + n(b);
  return n(a) * 60;
}

/** The lead a time-limit warning needs at most: a checkpoint of a large model is written well within it. */
const MAX_SIGNAL_LEAD_S = 900;

/**
 * `cluster.slurm.signal` when the spec leaves it empty: USR1 a tenth of the limit ahead, at most 900 s (and
 * at least 1 s), so a short test job is not told to stop as soon as it starts.
 */
export function defaultSlurmSignal(time: string): string {
  const limit = slurmTimeSeconds(time);
  const lead = limit === undefined ? MAX_SIGNAL_LEAD_S : Math.max(1, Math.min(MAX_SIGNAL_LEAD_S, Math.floor(limit / 10)));
  return `USR1@${lead}`;
}
