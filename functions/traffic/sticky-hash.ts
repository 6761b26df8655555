/**
 * Sticky version choice: a caller's bucket (0 to 99) for an alias is the first 32 bits of SHA-256(alias, subject),
 * scaled, so the same key always lands in the same bucket, and the buckets are laid out over the route's versions in
 * id@version order (code-unit order, the same in every runtime), never the order a request or a stored row lists
 * them: only the weights decide. While the weights stay the same a key sees one version; moving weight between two
 * neighbours in that order (with two versions, always: 90/10 to 80/20) moves only the keys whose buckets lie in between.
 */
export interface WeightedVersion {
  /** The version's canonical name, id@version. */
  model: string;
  /** An integer share of 0 to 100; a route's weights sum to 100, stored in id@version order (below). */
  weight: number;
}

const encoder = new TextEncoder();

export async function stickyBucket(alias: string, subject: string): Promise<number> {
  // The separator keeps ("a", "b\nc") and ("a\nb", "c") apart; neither an alias nor a key id holds a NUL.
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(`${alias}\u0000${subject}`));
  return Math.floor((new DataView(digest).getUint32(0) / 2 ** 32) * 100);
}

/** The versions in the order their buckets are laid out: by id@version. */
export function canonicalOrder(weights: readonly WeightedVersion[]): WeightedVersion[] {
  return [...weights].sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : 0));
}

/** The version whose share of the 100 buckets holds `bucket`. */
export function versionForBucket(weights: readonly WeightedVersion[], bucket: number): string {
  let upTo = 0;
  // Routes stored before the order was canonical are laid out the same way as new ones.
  for (const { model, weight } of canonicalOrder(weights)) {
    upTo += weight;
    if (bucket < upTo) return model;
  }
  return weights.findLast((w) => w.weight > 0)!.model; // unreachable for weights summing to 100
}
