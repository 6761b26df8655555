/**
 * RouteStore on DynamoDB (the AWS router), in billing's table (schema.ts): routes are few and routing reads them
 * all, so they are attributes of one item (`traffic#routes`, one attribute per alias: `route:<alias>`), read with one
 * GetItem per ROUTE_CACHE_MS and changed with one UpdateItem each, which leaves the other routes alone. Shadow
 * comparison counts are attributes of a second item (`traffic#shadows`), added to with ADD so that concurrent Lambda
 * environments never lose each other's counts. Reads are strongly consistent: a change is seen by the next read.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TrafficRoute, WeightedVersion, ShadowSetting } from './route-config.js';
import { RouteCache, ROUTE_CACHE_MS, type RouteStore, type ShadowComparison, type StoredRoute } from './route-store.js';

export const ROUTES_ITEM = 'traffic#routes';
export const SHADOWS_ITEM = 'traffic#shadows';
const ROUTE_PREFIX = 'route:';
const COUNTS = ['compared', 'agreed', 'scoreDeltaSum', 'skipped'] as const;

interface RouteValue {
  weights: WeightedVersion[];
  shadow: ShadowSetting | null;
  updatedAt: number;
}

/** One attribute per count and pair: `<count>:<JSON [alias, model, shadow model]>`. */
const countName = (count: (typeof COUNTS)[number], pair: readonly [string, string, string]) => `${count}:${JSON.stringify(pair)}`;

export class DynamoRouteStore implements RouteStore {
  private readonly cache: RouteCache;

  constructor(private readonly client: DynamoDBDocumentClient, private readonly table: string, private readonly now: () => number = Date.now, cacheMs = ROUTE_CACHE_MS) {
    this.cache = new RouteCache(() => this.list(), now, cacheMs);
  }

  private async item(pk: string): Promise<Record<string, unknown>> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.table, Key: { pk }, ConsistentRead: true }));
    return Item ?? {};
  }

  async list(): Promise<StoredRoute[]> {
    const item = await this.item(ROUTES_ITEM);
    return Object.entries(item)
      .filter(([name]) => name.startsWith(ROUTE_PREFIX))
      .map(([name, value]) => {
        const { weights, shadow, updatedAt } = value as RouteValue;
        return { alias: name.slice(ROUTE_PREFIX.length), weights, shadow: shadow ?? null, updatedAt };
      })
      .sort((a, b) => (a.alias < b.alias ? -1 : a.alias > b.alias ? 1 : 0));
  }

  async get(alias: string): Promise<StoredRoute | null> {
    return (await this.list()).find((r) => r.alias === alias) ?? null;
  }

  routes(): Promise<Map<string, StoredRoute>> {
    return this.cache.routes();
  }

  async put(route: TrafficRoute): Promise<void> {
    const value: RouteValue = { weights: route.weights, shadow: route.shadow, updatedAt: this.now() };
    await this.client.send(new UpdateCommand({
      TableName: this.table, Key: { pk: ROUTES_ITEM },
      UpdateExpression: 'SET #route = :route', ExpressionAttributeNames: { '#route': ROUTE_PREFIX + route.alias }, ExpressionAttributeValues: { ':route': value },
    }));
    this.cache.clear();
  }

  async delete(alias: string): Promise<boolean> {
    const { Attributes } = await this.client.send(new UpdateCommand({
      TableName: this.table, Key: { pk: ROUTES_ITEM },
      UpdateExpression: 'REMOVE #route', ExpressionAttributeNames: { '#route': ROUTE_PREFIX + alias }, ReturnValues: 'UPDATED_OLD',
    }));
    this.cache.clear();
    return Attributes !== undefined && Object.hasOwn(Attributes, ROUTE_PREFIX + alias);
  }

  async recordComparison(c: ShadowComparison): Promise<void> {
    const pair = [c.alias, c.model, c.shadowModel] as const;
    const names = Object.fromEntries(COUNTS.map((count, i) => [`#n${i}`, countName(count, pair)]));
    const values = Object.fromEntries(COUNTS.map((count, i) => [`:v${i}`, c[count]]));
    await this.client.send(new UpdateCommand({
      TableName: this.table, Key: { pk: SHADOWS_ITEM },
      UpdateExpression: `ADD ${COUNTS.map((_, i) => `#n${i} :v${i}`).join(', ')} SET updatedAt = :now`,
      ExpressionAttributeNames: names, ExpressionAttributeValues: { ...values, ':now': this.now() },
    }));
  }

  async comparisons(alias?: string): Promise<ShadowComparison[]> {
    const item = await this.item(SHADOWS_ITEM);
    const pairs = new Map<string, ShadowComparison>();
    for (const [name, value] of Object.entries(item)) {
      const at = name.indexOf(':');
      const count = name.slice(0, at) as (typeof COUNTS)[number];
      if (at < 0 || !COUNTS.includes(count)) continue;
      const key = name.slice(at + 1);
      const [pairAlias, model, shadowModel] = JSON.parse(key) as [string, string, string];
      if (alias !== undefined && pairAlias !== alias) continue;
      const entry = pairs.get(key) ?? { alias: pairAlias, model, shadowModel, compared: 0, agreed: 0, scoreDeltaSum: 0, skipped: 0 };
      entry[count] = Number(value);
      pairs.set(key, entry);
    }
    const order = (c: ShadowComparison) => [c.alias, c.model, c.shadowModel].join('\n');
    return [...pairs.values()].sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  }
}
