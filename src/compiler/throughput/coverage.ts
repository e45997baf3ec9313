/**
 * MoE expert coverage: how much of an MoE layer's routed experts a decode step must read. Each of B tokens
 * picks k distinct experts out of E; under uniform routing an expert escapes one token with probability
 * 1 − k/E, so it escapes all B tokens with probability (1 − k/E)^B and
 *
 *   φ(B) = 1 − (1 − k/E)^B,    expected distinct experts = E·φ(B)
 *
 * B = 1 reads exactly the k chosen experts; B → ∞ reads all E. Decode latency of an MoE layer tracks the
 * number of distinct experts loaded (reference §6.1; OEA, arXiv 2511.02237). B may be fractional: it is the
 * mean batch of a replica.
 */

/** φ(B): expected share of the E routed experts of one layer that B tokens with top-k routing touch. */
export function expertCoverage(tokens: number, k: number, experts: number): number {
  if (experts <= 0 || k <= 0) return 0;
  if (k >= experts) return tokens > 0 ? 1 : 0;
  if (tokens <= 0) return 0;
  return 1 - Math.pow(1 - k / experts, tokens);
}

/** E·φ(B): expected distinct experts per MoE layer hit by B tokens. */
export function expectedDistinctExperts(tokens: number, k: number, experts: number): number {
  return experts * expertCoverage(tokens, k, experts);
}
