// What these tests use from workerd's modules: the Worker's own default export, its bindings, D1 migrations.
declare module 'cloudflare:workers' {
  export const exports: { default: { fetch(request: Request): Promise<Response> } };
}

declare module 'cloudflare:test' {
  export const env: unknown;
  export function applyD1Migrations(db: unknown, migrations: unknown): Promise<void>;
}

declare module 'cloudflare:test' {
  /** Runs the callback inside the object that `stub` points to, with its instance (objects of the main Worker only). */
  export function runInDurableObject<O, R>(stub: unknown, callback: (instance: O, state: unknown) => R | Promise<R>): Promise<R>;
}
