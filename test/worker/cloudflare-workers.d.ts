// The one binding these tests use from workerd's module: the Worker's own default export.
declare module 'cloudflare:workers' {
  export const exports: { default: { fetch(request: Request): Promise<Response> } };
}
