/**
 * Sticky version choice: a caller's bucket (0 to 99) for an alias is the first 32 bits of SHA-256(alias, subject),
 * scaled, so the same key always lands in the same bucket, and the buckets are laid out over the route's versions in
 * the order the route lists them. While the weights stay the same a key sees one version; moving weight between two
 * neighbours (90/10 to 80/20) moves only the keys whose buckets lie in between.
 */
import type { WeightedVersion } from './route-config.js';

const encoder = new TextEncoder();

export async function stickyBucket(alias: string, subject: string): Promise<number> {
  // The separator keeps ("a", "b\nc") and ("a\nb", "c") apart; neither an alias nor a key id holds a NUL.
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(`${alias}\u0000${subject}`));
  return Math.floor((new DataView(digest).getUint32(0) / 2 ** 32) * 100);
}

/** The version whose share of the 100 buckets holds `bucket`. */
export function versionForBucket(weights: WeightedVersion[], bucket: number): string {
  let upTo = 0;
  for (const { model, weight } of weights) {
    upTo += weight;
    if (bucket < upTo) return model;
  }
  return weights.findLast((w) => w.weight > 0)!.model; // unreachable for weights summing to 100
}
