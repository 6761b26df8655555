/**
 * The shared secret a deployment's GPU service requires (its load balancer's rule and vLLM's --api-key), sent as
 * `Authorization: Bearer` on requests to that service's origin only, never to another upstream.
 */
export function withUpstreamKey(fetchFn: typeof fetch, origin: string, key: string): typeof fetch {
  const target = new URL(origin).origin;
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.origin !== target) return fetchFn(input, init);
    const headers = new Headers(input instanceof Request ? input.headers : undefined);
    new Headers(init?.headers).forEach((value, name) => headers.set(name, value));
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${key}`);
    return fetchFn(input, { ...init, headers });
  };
}
