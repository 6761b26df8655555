/**
 * The upstream client's fetch, counting each POST to a GPU upstream by what came back (its status, or "error"),
 * retries included: the client sends every attempt through it. Health probes (GET) are not attempts.
 */
import type { RouterMetrics } from './router-metrics.js';
import { upstreamLabel } from './upstream-span.js';

export function observedFetch(metrics: RouterMetrics, fetchFn: typeof fetch = (input, init) => fetch(input, init)): typeof fetch {
  return async (input, init) => {
    if ((init?.method ?? 'GET').toUpperCase() !== 'POST') return fetchFn(input, init);
    const upstream = upstreamLabel(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    try {
      const response = await fetchFn(input, init);
      metrics.upstreamAttempt(upstream, String(response.status));
      return response;
    } catch (error) {
      metrics.upstreamAttempt(upstream, 'error');
      throw error;
    }
  };
}
