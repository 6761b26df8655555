// What the cache tests use of cloudflare:test beyond cloudflare-workers.d.ts: an ExecutionContext to call an app
// with, and a wait for the work it was handed (ctx.waitUntil) to finish.
declare module 'cloudflare:test' {
  export function createExecutionContext(): { waitUntil(promise: Promise<unknown>): void; passThroughOnException(): void; props: unknown };
  export function waitOnExecutionContext(ctx: unknown): Promise<void>;
}
