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

/** In-process work of a pinned request where the process runs elsewhere, or nobody knows where. */
export const notServedHere = (pinned: string, here: string | undefined) =>
  new ApiError(503, here
    ? `this request's key is pinned to region ${pinned}, and this server processes it in region ${here}: send it to an endpoint that runs in ${pinned}`
    : `this request's key is pinned to region ${pinned}, and where this server runs is not known, so it cannot be processed here (set the server's region, or send it to an endpoint that runs in ${pinned})`,
  'server_error', 'region_unavailable');
