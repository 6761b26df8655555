/**
 * npm run keys -- <command>, on the SQLite file the server uses ($USAGE_DB or .data/edge-maas.sqlite), or on the
 * DynamoDB tables of an AWS deployment when BILLING_TABLE and USAGE_TABLE name them (AWS credentials from the environment):
 *   tenant <id> [--stripe-customer cus_...]
 *   create --tenant <id> [--rpm 600] [--tpm 1000000] [--budget-usd 25] [--name <name>]   (prints the key once)
 *   list [--tenant <id>]
 *   disable <key id> | enable <key id> | revoke <key id>
 *   limits <key id> [--rpm N] [--tpm N] [--budget-usd X|none] [--name <name>]   (changes only the flags given)
 *   privacy key|tenant <id> [--pii off|mask|block] [--retention standard|none] [--region eu|us|...|none]   (without flags: shows it)
 * A running server sees status, limit and budget changes within 2 s (its key cache; a Worker isolate's: 10 s), and
 * privacy policies within 5 s. On DynamoDB the policies are items of the billing table (dynamo-policy-store.ts), and a
 * region is checked against the registry with REGISTRY_OVERLAY applied when it is set (the router function's value).
 */
import { parseArgs } from 'node:util';
import { BillingError } from '../billing/billing-errors.js';
import { changeKey, createKey, createTenant, describeKey, setStatus } from '../billing/key-admin.js';
import { runCli, UsageError } from './cli.js';
import { usdAmount } from '../console/client/usd-amount.js';
import { defaultUsageDb, dynamoTablesFromEnv, migrationsDir, openBilling } from './billing-setup.js';
import { openSqlite } from './sqlite-database.js';
import { ApiError } from '../http/errors.js';
import { OPEN_POLICY, parsePolicyBody } from '../privacy/policy.js';
import { inForce, SqlPolicyStore, type PolicyStore } from '../privacy/policy-store.js';
import { applyRegistryOverlay } from '../registry/registry-overlay.js';
import { servedRegions } from '../privacy/regions.js';
import { readLocalRegistry } from './local-app.js';

const COMMANDS = ['tenant', 'create', 'list', 'disable', 'enable', 'revoke', 'limits', 'privacy'];
const USAGE = 'usage: npm run keys -- tenant <id> [--stripe-customer cus_...] | create --tenant <id> [--rpm N] [--tpm N] [--budget-usd X] [--name NAME] | list [--tenant <id>] | disable|enable|revoke <key id> | limits <key id> [--rpm N] [--tpm N] [--budget-usd X|none] [--name NAME] | privacy key|tenant <id> [--pii off|mask|block] [--retention standard|none] [--region eu|us|...|none]';

/** --rpm and --tpm: decimal digits only ("0x10", " 12", "1e3" and "1.5" are refused, not read as some number); the range is the API's to check. */
function integer(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw new UsageError(`--${name} must be a whole number in decimal digits, not "${value}"`);
  return Number(value);
}

/** --budget-usd in dollars as the API's micro-USD, read exactly (usd-amount.ts, as the console reads it); "none" takes the budget away. */
function budgetMicroUsd(value: string | undefined): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === 'none') return null;
  const amount = usdAmount(value);
  if ('problem' in amount) throw new UsageError(`--budget-usd: ${amount.problem} (or "none" for no budget)`);
  return amount.microUsd;
}

runCli(async () => {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' }, tenant: { type: 'string' }, rpm: { type: 'string' }, tpm: { type: 'string' }, 'budget-usd': { type: 'string' }, name: { type: 'string' }, 'stripe-customer': { type: 'string' }, pii: { type: 'string' }, retention: { type: 'string' }, region: { type: 'string' } },
  });
  const [command, arg] = positionals;
  if (values.help || command === 'help') {
    console.log(USAGE);
    return;
  }
  // Checked before the store opens: a mistyped command must not create a database file.
  if (!command || !COMMANDS.includes(command)) throw new UsageError(USAGE);
  const { billing, close } = await openBilling({ mode: 'keys' });
  const store = billing.store;
  const now = Date.now();
  try {
    let out: unknown;
    if (command === 'tenant') out = await createTenant(store, { id: arg, stripe_customer_id: values['stripe-customer'] }, now);
    else if (command === 'create') {
      out = await createKey(store, {
        tenant: values.tenant, name: values.name, rpm: integer(values.rpm, 'rpm'), tpm: integer(values.tpm, 'tpm'),
        monthly_budget_micro_usd: budgetMicroUsd(values['budget-usd']) ?? undefined,
      }, now);
      console.error('the key is shown once: store it now');
    } else if (command === 'list') out = (await store.listKeys(values.tenant)).map(describeKey);
    else if (command === 'limits') {
      if (!arg) throw new UsageError('limits needs a key id (npm run keys -- list)');
      out = await changeKey(store, arg, {
        name: values.name, rpm: integer(values.rpm, 'rpm'), tpm: integer(values.tpm, 'tpm'), monthly_budget_micro_usd: budgetMicroUsd(values['budget-usd']),
      }, now);
    } else if (command === 'privacy') out = await privacy(store, positionals.slice(1), values);
    else if (command === 'disable' || command === 'enable' || command === 'revoke') {
      if (!arg) throw new UsageError(`${command} needs a key id (npm run keys -- list)`);
      out = await setStatus(store, { id: arg, status: command === 'disable' ? 'disabled' : command === 'enable' ? 'active' : 'revoked' }, now);
    }
    console.log(JSON.stringify(out, null, 2));
  } catch (error) {
    if (error instanceof BillingError) throw new UsageError(error.message);
    throw error;
  } finally {
    await close();
  }
});

/**
 * `privacy key|tenant <id> [--pii …] [--retention …] [--region …]`: the policy in force shown (a key's own, else its
 * tenant's, with source and region_source, as GET /admin/keys/{id}/privacy answers), or changed (the fields given)
 * and shown. A region must be one some upstream of models/registry.json is in, or this server's EDGE_MAAS_REGION;
 * "none" (or "null", as the API takes it) removes the pin. A revoked key's policy no longer changes.
 */
async function privacy(store: Awaited<ReturnType<typeof openBilling>>['billing']['store'], [scope, id]: string[], values: { pii?: string; retention?: string; region?: string }) {
  if ((scope !== 'key' && scope !== 'tenant') || !id) throw new UsageError('usage: npm run keys -- privacy key|tenant <id> [--pii off|mask|block] [--retention standard|none] [--region eu|us|...|none]');
  const key = scope === 'key' ? await store.keyById(id) : null;
  const exists = scope === 'key' ? key !== null : (await store.getTenant(id)) !== null;
  if (!exists) throw new UsageError(`${scope} "${id}" does not exist`);
  const { policies, close } = await openPolicies();
  try {
    const asked = { pii: values.pii, retention: values.retention, region: values.region === 'none' || values.region === 'null' ? null : values.region };
    const change = Object.fromEntries(Object.entries(asked).filter(([, v]) => v !== undefined));
    const tenant = key ? await policies.get('tenant', key.tenantId) : null;
    if (Object.keys(change).length > 0) {
      if (key?.status === 'revoked') throw new UsageError(`key "${id}" is revoked for good; its privacy policy can no longer change`);
      const served = change.region ? servedRegions(applyRegistryOverlay(await readLocalRegistry(), process.env.REGISTRY_OVERLAY || undefined), process.env.EDGE_MAAS_REGION || undefined) : undefined;
      // A key's first row starts from its tenant's pii and retention, as the admin API's does.
      const start = (await policies.get(scope, id)) ?? (tenant ? { pii: tenant.pii, retention: tenant.retention } : OPEN_POLICY);
      try {
        await policies.put(scope, id, parsePolicyBody(change, start, served));
      } catch (error) {
        if (error instanceof ApiError) throw new UsageError(`--${error.param}: ${error.message.replace(', or null for none', ', or none')}`);
        throw error;
      }
    }
    const own = await policies.get(scope, id);
    const { policy, source, regionSource } = inForce(scope === 'key' ? { key: own, tenant } : { key: null, tenant: own });
    return { object: 'privacy_policy', scope, id, pii: policy.pii, retention: policy.retention, region: policy.region ?? null, source, region_source: regionSource };
  } finally {
    close();
  }
}

/** The policies where billing keeps its keys: the billing table on DynamoDB, else the SQLite file. */
async function openPolicies(): Promise<{ policies: PolicyStore; close(): void }> {
  const tables = dynamoTablesFromEnv();
  if (tables) {
    const [{ documentClient }, { DynamoPolicyStore }] = await Promise.all([import('../billing/dynamo/dynamo-client.js'), import('../privacy/dynamo-policy-store.js')]);
    const client = documentClient();
    return { policies: new DynamoPolicyStore(client, tables.billing), close: () => client.destroy() };
  }
  const db = await openSqlite(process.env.USAGE_DB ?? defaultUsageDb(), migrationsDir);
  return { policies: new SqlPolicyStore(db), close: () => db.close() };
}
