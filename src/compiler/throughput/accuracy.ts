/**
 * How sure the throughput model is, in the figures the text plan and the HTML page print next to it.
 *
 * Constants, not computed per plan: the trainer figures come from refitting the trainer constants 34 times
 * (leave-one-out, calibration.ts) over the calibration file, a second of work and a file read that `plan`
 * must not pay. test/throughput/accuracy.test.ts recomputes every figure here from calibration.ts and
 * anchors.ts and fails when they drift, so a refit that changes the errors changes this file too.
 */

export const THROUGHPUT_ACCURACY = {
  trainer: {
    /** Measured prime-rl trainer runs the constants are fitted on (calibration.ts `isFitRow`). */
    fittedRuns: 34,
    /** Median |error| of trainer tokens/s on those runs with the shipped constants. */
    fittedMedianError: 0.038,
    /** Median |error| of each run predicted with the constants refitted without it. */
    leaveOneOutMedianError: 0.064,
  },
  inference: {
    /** Published serving figures the inference side is compared with (anchors.ts ids A…). */
    anchors: 13,
  },
} as const;

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** Two statements: the trainer side's measured error, and that the inference side rests on a roofline with fewer anchors. */
export function accuracyText(): { trainer: string; inference: string } {
  const t = THROUGHPUT_ACCURACY.trainer;
  return {
    trainer: `trainer: median error ${pct(t.fittedMedianError)} on ${t.fittedRuns} measured prime-rl runs (${pct(t.leaveOneOutMedianError)} leave-one-out)`,
    inference: `inference: a bandwidth roofline with fewer anchors (${THROUGHPUT_ACCURACY.inference.anchors} published serving figures)`,
  };
}
