/**
 * The Lambda router's privacy policies and traffic routes, in billing's DynamoDB table (DynamoPolicyStore,
 * DynamoRouteStore), for buildLocalApp. EDGE_MAAS_REGION is the jurisdiction this function runs in (the CDK stack
 * derives it from its AWS region, infra/lib/jurisdiction.ts): keys pinned to it are classified here, and a pin may
 * name it or any region an upstream of the registry is in. Unset, pinned keys reach only their region's upstreams.
 */
import { REGIONS, type Registry } from '../registry/registry.js';
import { servedRegions } from '../privacy/regions.js';
import type { LocalAppOptions } from '../node/local-app.js';

type Env = Record<string, string | undefined>;

export function regionFromEnv(env: Env = process.env): string | undefined {
  const region = env.EDGE_MAAS_REGION || undefined;
  if (region !== undefined && !(REGIONS as readonly string[]).includes(region)) throw new Error(`EDGE_MAAS_REGION must be one of ${REGIONS.join(', ')}, not "${region}"`);
  return region;
}

export async function policiesAndRoutes(table: string, registry: Registry, env: Env = process.env): Promise<Pick<LocalAppOptions, 'privacy' | 'traffic'>> {
  // Loaded on use, as billing's DynamoDB code is: a router without tables never pays for the AWS SDK.
  const [{ documentClient }, { DynamoPolicyStore }, { DynamoRouteStore }] = await Promise.all([
    import('../billing/dynamo/dynamo-client.js'),
    import('../privacy/dynamo-policy-store.js'),
    import('../traffic/dynamo-route-store.js'),
  ]);
  const client = documentClient();
  const region = regionFromEnv(env);
  return {
    privacy: { store: new DynamoPolicyStore(client, table), regions: servedRegions(registry, region), locate: region ? () => region : undefined },
    traffic: { store: new DynamoRouteStore(client, table) },
  };
}
