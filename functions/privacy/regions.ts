/**
 * Where a pinned request may be served. Generation goes to upstreams of the pinned region (upstream-client.ts); every
 * other request of a pinned key (classification, files, fine-tuning: work done in this process) is answered only
 * where the process is known to run in that region: a fixed fact in Node and Lambda (the operator's setting), the
 * Cloudflare location of each request in the Worker (functions/worker/colo-regions.ts), unknown otherwise.
 */
import { ApiError } from '../http/errors.js';
import type { Registry } from '../registry/registry.js';

/** Where this request is being processed: a region, or undefined when nobody knows. */
export type LocateRequest = (request: Request) => string | undefined;

/**
 * The regions a key may be pinned to: those some gpu-upstream model has an upstream in, and those this process's
 * in-process models can run in (a Node server's fixed region; the Worker's: every region it knows data centers of).
 */
export function servedRegions(registry: Registry, ...local: Array<string | undefined>): string[] {
  const regions = new Set<string>(registry.models.flatMap((m) => m.upstreams.flatMap((u) => (u.region ? [u.region] : []))));
  for (const region of local) if (region) regions.add(region);
  return [...regions].sort();
}

/** Who pinned a request: its key (or the key's tenant), or the request's own x-edge-maas-privacy header. */
export type PinnedBy = 'key' | 'header';

const pinnedBy = (pinned: string, by: PinnedBy) =>
  by === 'key' ? `this request's key is pinned to region ${pinned}` : `this request asked for region ${pinned} in its x-edge-maas-privacy header`;

/**
 * In-process work of a pinned request where the process runs elsewhere, or nobody knows where. A 403, not a 503:
 * this server will not move, so a retry here can never succeed (clients retry 503s, the Hugging Face one at once and
 * forever); the message says where the request can be served.
 */
export const notServedHere = (pinned: string, here: string | undefined, by: PinnedBy = 'key') =>
  new ApiError(403, here
    ? `${pinnedBy(pinned, by)}, and this server processes requests in region ${here}: send it to an endpoint that runs in ${pinned}`
    : `${pinnedBy(pinned, by)}, and where this server runs is not known (it has no region set), so it cannot be processed here: send it to an endpoint that runs in ${pinned}`,
  'invalid_request_error', 'region_not_here');

/** A region asked for in the header that nothing here serves: bad input, as a PUT pinning a key to it is. */
export const regionNotServed = (asked: string, served: readonly string[]) =>
  new ApiError(400, `x-edge-maas-privacy: region "${asked}": no upstream or in-process model of this server runs there (${served.length > 0 ? `the regions served are ${served.join(', ')}` : 'none has a region'})`,
    'invalid_request_error', 'region_not_served', 'x-edge-maas-privacy');
