/**
 * A deployment's own generation models (what its GPU service serves, with names, prices and limits), in place of the
 * checkout's gpu-upstream entries: the CDK stack sets it for the Lambda router, a Worker var for the edge.
 */
import { Registry } from './registry.js';

export function applyRegistryOverlay(registry: Registry, overlayJson: string | undefined): Registry {
  if (!overlayJson) return registry;
  const raw = JSON.parse(overlayJson) as { models?: Array<{ id?: unknown }> };
  const first = raw.models?.[0]?.id;
  const overlay = Registry.parse({ default: first, models: raw.models });
  return new Registry([...registry.models.filter((m) => m.runtime !== 'gpu-upstream'), ...overlay.models], registry.defaultName);
}
