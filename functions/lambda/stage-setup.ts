/**
 * What the CDK stack tells the router about its stage (infra/lib/registry-overlay.ts, infra/lib/router-function.ts):
 * REGISTRY_OVERLAY replaces the checkout's gpu-upstream models with the ones this stage's GPU service serves, and
 * UPSTREAM_KEY_SECRET_ARN names the key the GPU service's load balancer and vLLM require, read once through the
 * Lambda Parameters and Secrets extension (no SDK in the bundle) and sent as `Authorization: Bearer` on requests
 * to that service's origin only.
 */
import { withUpstreamKey } from '../upstream/upstream-key.js';
import { UpstreamClient, type UpstreamClientOptions } from '../upstream/upstream-client.js';
import { applyRegistryOverlay } from '../registry/registry-overlay.js';
import type { Registry } from '../registry/registry.js';

export { applyRegistryOverlay, withUpstreamKey };

type Env = Record<string, string | undefined>;

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

/**
 * The stage's registry, and an upstream client that sends the upstream key to the GPU service; `clientOptions` is
 * handed that fetch (undefined: the global one) and gives the client's options (the metrics count its attempts).
 */
export async function setUpStage(
  registry: Registry, env: Env = process.env, clientOptions: (fetchFn?: typeof fetch) => UpstreamClientOptions = (fetchFn) => ({ fetch: fetchFn }),
): Promise<{ registry: Registry; upstreams: UpstreamClient }> {
  const key = await readUpstreamKey(env);
  const fetchFn = key && env.GENERATION_UPSTREAM_URL ? withUpstreamKey((input, init) => fetch(input, init), env.GENERATION_UPSTREAM_URL, key) : undefined;
  return { registry: applyRegistryOverlay(registry, env.REGISTRY_OVERLAY), upstreams: new UpstreamClient({}, clientOptions(fetchFn)) };
}
