// What this suite uses from cloudflare:test beyond test/worker/cloudflare-workers.d.ts: an ExecutionContext to pass
// to the Worker's fetch, and waiting for what it was handed with waitUntil.
declare module 'cloudflare:test' {
  export function createExecutionContext(): import('hono').ExecutionContext;
  export function waitOnExecutionContext(ctx: import('hono').ExecutionContext): Promise<void>;
}
