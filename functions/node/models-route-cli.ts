/**
 * npm run models:route -- <command>, on the SQLite file the server uses ($USAGE_DB or .data/edge-maas.sqlite), or on
 * the billing table of an AWS deployment when BILLING_TABLE and USAGE_TABLE name its tables (as npm run keys does):
 *   show [alias]                                       (no alias: every stored route)
 *   set <alias> --weight id@version=N [--weight ...] [--shadow id@version --shadow-percent P]
 *   clear <alias>                                      (back to the registry's plain alias)
 * The same checks as PUT /admin/routes/{alias}: a refused route changes nothing. A running server sees a change
 * within 5 s (its route cache). On AWS the targets are the registry with REGISTRY_OVERLAY applied when it is set (the
 * router function's value). At the edge, use the admin API (the route lives in D1).
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ApiError } from '../http/errors.js';
import type { RouteTargets } from '../traffic/route-config.js';
import { SqlRouteStore, type RouteStore } from '../traffic/route-store.js';
import { applyRegistryOverlay } from '../registry/registry-overlay.js';
import { deleteRoute, putRoute } from '../traffic/route-changes.js';
import { readRouteView, routeView } from '../traffic/route-view.js';
import { defaultUsageDb, dynamoTablesFromEnv, migrationsDir } from './billing-setup.js';
import { runCli, UsageError } from './cli.js';
import { readLocalRegistry } from './local-app.js';
import { openSqlite } from './sqlite-database.js';

const USAGE = 'usage: npm run models:route -- show [alias] | set <alias> --weight id@version=N [--weight ...] [--shadow id@version --shadow-percent P] | clear <alias>';

// Decimal digits only: Number() would read "" and " " as 0, "0x10" as 16 and "1e1" as 10.
const INTEGER = /^-?\d+$/;
const DECIMAL = /^-?(\d+(\.\d*)?|\.\d+)$/;

function weightsOf(pairs: string[]): Record<string, unknown> {
  const weights: Record<string, unknown> = {};
  for (const pair of pairs) {
    const at = pair.lastIndexOf('=');
    if (at <= 0) throw new UsageError(`--weight takes id@version=N, not "${pair}"`);
    const name = pair.slice(0, at);
    const value = pair.slice(at + 1);
    // An object would keep the last of two: say so instead of summing what is left.
    if (Object.hasOwn(weights, name)) throw new UsageError(`--weight names "${name}" twice`);
    if (!INTEGER.test(value)) throw new UsageError(`--weight ${name}= takes an integer from 0 to 100 in decimal digits, not "${value}"`);
    weights[name] = Number(value);
  }
  return weights;
}

function percentOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!DECIMAL.test(value)) throw new UsageError(`--shadow-percent takes a decimal number from 0 to 100 (2.5, say), not "${value}"`);
  return Number(value);
}

runCli(async () => {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' }, weight: { type: 'string', multiple: true }, shadow: { type: 'string' }, 'shadow-percent': { type: 'string' } },
  });
  const [command, alias] = positionals;
  if (values.help || command === 'help') return void console.log(USAGE);
  // Checked before the store opens: a mistyped command must not create a database file.
  if (!['show', 'set', 'clear'].includes(command ?? '') || (command !== 'show' && !alias)) throw new UsageError(USAGE);
  const targets: RouteTargets = { registry: applyRegistryOverlay(await readLocalRegistry(), process.env.REGISTRY_OVERLAY || undefined) };
  const { store, close } = await openRoutes(command !== 'set');
  try {
    let out: unknown;
    if (command === 'show' && !alias) {
      const [routes, comparisons] = await Promise.all([store.list(), store.comparisons()]);
      out = routes.map((r) => routeView(r.alias, r, comparisons.filter((x) => x.alias === r.alias), targets));
    } else if (command === 'show') out = await readRouteView(store, alias!, targets);
    else if (command === 'clear') out = await deleteRoute(store, alias!, targets);
    else {
      const body: Record<string, unknown> = { weights: weightsOf(values.weight ?? []) };
      if (values.shadow !== undefined || values['shadow-percent'] !== undefined) {
        body.shadow = { model: values.shadow, percent: percentOf(values['shadow-percent']) };
      }
      out = await putRoute(store, alias!, body, targets);
    }
    console.log(JSON.stringify(out, null, 2));
  } catch (error) {
    if (error instanceof ApiError) throw new UsageError(`${error.param ?? 'route'}: ${error.message}`);
    throw error;
  } finally {
    close();
  }
});

/** The routes where billing keeps its keys: the billing table on DynamoDB, else the SQLite file. */
async function openRoutes(mustExist: boolean): Promise<{ store: RouteStore; close(): void }> {
  const tables = dynamoTablesFromEnv();
  if (tables) {
    const [{ documentClient }, { DynamoRouteStore }] = await Promise.all([import('../billing/dynamo/dynamo-client.js'), import('../traffic/dynamo-route-store.js')]);
    const client = documentClient();
    return { store: new DynamoRouteStore(client, tables.billing), close: () => client.destroy() };
  }
  const path = process.env.USAGE_DB ?? defaultUsageDb();
  // show and clear read what is there: a mistyped USAGE_DB must say so, not create an empty database and show nothing.
  if (mustExist && !existsSync(path)) throw new UsageError(`no database at ${path} (USAGE_DB, or the default .data file): nothing to show or clear`);
  const db = await openSqlite(path, migrationsDir);
  return { store: new SqlRouteStore(db), close: () => db.close() };
}
