/**
 * What the CDK stack tells the router about its stage (infra/lib/registry-overlay.ts, infra/lib/router-function.ts):
 * REGISTRY_OVERLAY replaces the checkout's gpu-upstream models with the ones this stage's GPU service serves, and
 * UPSTREAM_KEY_SECRET_ARN names the key the GPU service's load balancer and vLLM require, read once through the
 * Lambda Parameters and Secrets extension (no SDK in the bundle) and sent as `Authorization: Bearer` on requests
 * to that service's origin only.
 */
import { Registry } from '../engine/registry/registry.js';

type Env = Record<string, string | undefined>;

/** The registry with the overlay's models in place of its gpu-upstream ones; unchanged without an overlay. */
export function applyRegistryOverlay(registry: Registry, overlayJson: string | undefined): Registry {
  if (!overlayJson) return registry;
  const raw = JSON.parse(overlayJson) as { models?: Array<{ id?: unknown }> };
  const first = raw.models?.[0]?.id;
  const overlay = Registry.parse({ default: first, models: raw.models });
  return new Registry([...registry.models.filter((m) => m.runtime !== 'gpu-upstream'), ...overlay.models], registry.defaultName);
}

/** `fetchFn` with the upstream key added to requests for `origin` that carry no Authorization of their own. */
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

/** The key from Secrets Manager through the extension's local HTTP endpoint; undefined when no secret is named. */
export async function readUpstreamKey(env: Env = process.env, fetchFn: typeof fetch = fetch): Promise<string | undefined> {
  const secretId = env.UPSTREAM_KEY_SECRET_ARN;
  if (!secretId) return undefined;
  const port = env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT ?? '2773';
  const response = await fetchFn(`http://localhost:${port}/secretsmanager/get?secretId=${encodeURIComponent(secretId)}`, {
    headers: { 'X-Aws-Parameters-Secrets-Token': env.AWS_SESSION_TOKEN ?? '' },
  });
  if (!response.ok) throw new Error(`the upstream key could not be read (${response.status}): ${await response.text()}`);
  const key = ((await response.json()) as { SecretString?: string }).SecretString;
  if (!key) throw new Error('the upstream key secret has no SecretString');
  return key;
}

/** The stage's registry, and global fetch sending the upstream key to the GPU service (UpstreamClient uses fetch). */
export async function setUpStage(registry: Registry, env: Env = process.env): Promise<Registry> {
  const key = await readUpstreamKey(env);
  if (key && env.GENERATION_UPSTREAM_URL) globalThis.fetch = withUpstreamKey(globalThis.fetch, env.GENERATION_UPSTREAM_URL, key);
  return applyRegistryOverlay(registry, env.REGISTRY_OVERLAY);
}
