/**
 * Traffic routes and shadow comparison counts in the SQL database billing uses (SQLite in Node, D1 at the edge;
 * tables model_routes and shadow_comparisons, migrations/0008). Classification reads the routes on every request,
 * so the whole (small) table is cached for ROUTE_CACHE_MS: a change made through this store is seen at once by this
 * process, and by other processes and Worker isolates within 5 s.
 */
import type { ShadowSetting, TrafficRoute, WeightedVersion } from './route-config.js';

/** The two calls the store makes: billing's SqlDatabase (sqlite-database.ts, d1-database.ts) fits. */
export interface RouteDatabase {
  run(sql: string, params?: unknown[]): Promise<{ changes: number }>;
  all<T>(sql: string, params?: unknown[]): Promise<T[]>;
}

export const ROUTE_CACHE_MS = 5_000;

export interface StoredRoute extends TrafficRoute {
  updatedAt: number;
}

/** One (alias, answered version, shadow version) pair's comparisons. */
export interface ShadowComparison {
  alias: string;
  model: string;
  shadowModel: string;
  compared: number;
  agreed: number;
  scoreDeltaSum: number;
  /** Texts not compared: their shadow run was dropped (too many running, or the shadow's queue refused it). */
  skipped: number;
}

interface RouteRow {
  alias: string;
  weights: string;
  shadow_model: string | null;
  shadow_percent: number | null;
  updated_at: number;
}

interface ComparisonRow {
  alias: string;
  model: string;
  shadow_model: string;
  compared: number;
  agreed: number;
  score_delta_sum: number;
  skipped: number;
}

const fromRow = (row: RouteRow): StoredRoute => ({
  alias: row.alias,
  weights: JSON.parse(row.weights) as WeightedVersion[],
  shadow: row.shadow_model === null ? null : ({ model: row.shadow_model, percent: row.shadow_percent ?? 0 } satisfies ShadowSetting),
  updatedAt: row.updated_at,
});

/**
 * What routing, the admin routes and the CLI need of a route store: SqlRouteStore here, DynamoRouteStore
 * (dynamo-route-store.ts) on AWS. routes() may answer from a cache at most ROUTE_CACHE_MS old; a change through the
 * same store is seen at once.
 */
export interface RouteStore {
  list(): Promise<StoredRoute[]>;
  get(alias: string): Promise<StoredRoute | null>;
  /** Every route, from a cache at most ROUTE_CACHE_MS old: what request routing reads. */
  routes(): Promise<Map<string, StoredRoute>>;
  put(route: TrafficRoute): Promise<void>;
  /** true when there was a route to delete. */
  delete(alias: string): Promise<boolean>;
  /** Adds these counts to the pair's. */
  recordComparison(c: ShadowComparison): Promise<void>;
  /** The comparisons of one alias, or of every alias. */
  comparisons(alias?: string): Promise<ShadowComparison[]>;
}

/** Every route, read at most once per cacheMs (both stores' cache); a failed read is not kept. */
export class RouteCache {
  private cached: { at: number; routes: Promise<Map<string, StoredRoute>> } | null = null;

  constructor(private readonly list: () => Promise<StoredRoute[]>, private readonly now: () => number = Date.now, private readonly cacheMs = ROUTE_CACHE_MS) {}

  routes(): Promise<Map<string, StoredRoute>> {
    const at = this.now();
    if (this.cached && at - this.cached.at < this.cacheMs) return this.cached.routes;
    const routes = this.list().then((all) => new Map(all.map((r) => [r.alias, r])));
    this.cached = { at, routes };
    routes.catch(() => { this.cached = null; });
    return routes;
  }

  clear(): void {
    this.cached = null;
  }
}

export class SqlRouteStore implements RouteStore {
  private readonly cache: RouteCache;

  private readonly opened: Promise<RouteDatabase>;

  /** db may still be opening (the Node server opens it beside billing's, while the models load). */
  constructor(db: RouteDatabase | Promise<RouteDatabase>, private readonly now: () => number = Date.now, cacheMs = ROUTE_CACHE_MS) {
    this.opened = Promise.resolve(db);
    this.opened.catch(() => {}); // a failure to open is the first request's error, not an unhandled rejection
    this.cache = new RouteCache(() => this.list(), now, cacheMs);
  }

  async list(): Promise<StoredRoute[]> {
    const rows = await (await this.opened).all<RouteRow>('SELECT alias, weights, shadow_model, shadow_percent, updated_at FROM model_routes ORDER BY alias');
    return rows.map(fromRow);
  }

  async get(alias: string): Promise<StoredRoute | null> {
    const rows = await (await this.opened).all<RouteRow>('SELECT alias, weights, shadow_model, shadow_percent, updated_at FROM model_routes WHERE alias = ?', [alias]);
    return rows[0] ? fromRow(rows[0]) : null;
  }

  /** Every route, from a cache at most cacheMs old: what request routing reads. */
  routes(): Promise<Map<string, StoredRoute>> {
    return this.cache.routes();
  }

  async put(route: TrafficRoute): Promise<void> {
    await (await this.opened).run(
      'INSERT INTO model_routes (alias, weights, shadow_model, shadow_percent, updated_at) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT (alias) DO UPDATE SET weights = excluded.weights, shadow_model = excluded.shadow_model, ' +
        'shadow_percent = excluded.shadow_percent, updated_at = excluded.updated_at',
      [route.alias, JSON.stringify(route.weights), route.shadow?.model ?? null, route.shadow?.percent ?? null, this.now()],
    );
    this.cache.clear();
  }

  /** true when there was a route to delete. */
  async delete(alias: string): Promise<boolean> {
    const { changes } = await (await this.opened).run('DELETE FROM model_routes WHERE alias = ?', [alias]);
    this.cache.clear();
    return changes > 0;
  }

  async recordComparison(c: ShadowComparison): Promise<void> {
    await (await this.opened).run(
      'INSERT INTO shadow_comparisons (alias, model, shadow_model, compared, agreed, score_delta_sum, skipped, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ' +
        'ON CONFLICT (alias, model, shadow_model) DO UPDATE SET compared = compared + excluded.compared, agreed = agreed + excluded.agreed, ' +
        'score_delta_sum = score_delta_sum + excluded.score_delta_sum, skipped = skipped + excluded.skipped, updated_at = excluded.updated_at',
      [c.alias, c.model, c.shadowModel, c.compared, c.agreed, c.scoreDeltaSum, c.skipped, this.now()],
    );
  }

  /** The comparisons of one alias, or of every alias. */
  async comparisons(alias?: string): Promise<ShadowComparison[]> {
    const sql = 'SELECT alias, model, shadow_model, compared, agreed, score_delta_sum, skipped FROM shadow_comparisons';
    const rows = await (await this.opened).all<ComparisonRow>(alias === undefined ? `${sql} ORDER BY alias, model, shadow_model` : `${sql} WHERE alias = ? ORDER BY model, shadow_model`, alias === undefined ? [] : [alias]);
    return rows.map((r) => ({ alias: r.alias, model: r.model, shadowModel: r.shadow_model, compared: r.compared, agreed: r.agreed, scoreDeltaSum: r.score_delta_sum, skipped: r.skipped }));
  }
}

/** The SQL store under the name the entries construct it by (Node, Worker, CLI). */
export const RouteStore = SqlRouteStore;
