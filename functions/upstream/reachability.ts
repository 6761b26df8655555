/**
 * Whether an upstream answers at all: GET /health within the probe timeout, any HTTP status counting (vLLM,
 * our generation server and an ALB all answer it). Asked when a request has no response headers yet, to tell a
 * busy upstream (keep waiting) from one that is gone or stalled (a connection failure). Concurrent questions
 * about one upstream share one probe.
 */
export class Reachability {
  private readonly inFlight = new Map<string, Promise<boolean>>();

  constructor(private readonly fetchFn: typeof fetch, private readonly timeoutMs: number) {}

  check(url: string): Promise<boolean> {
    let probe = this.inFlight.get(url);
    if (!probe) {
      probe = this.fetchFn(`${url}/health`, { signal: AbortSignal.timeout(this.timeoutMs) })
        .then(async (response) => {
          await response.body?.cancel().catch(() => {});
          return true;
        }, () => false)
        .finally(() => this.inFlight.delete(url));
      this.inFlight.set(url, probe);
    }
    return probe;
  }
}
