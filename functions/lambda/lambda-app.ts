/**
 * The app both Lambda entries serve, built once per execution environment on its first invocation (and again
 * after a failed build): this checkout's models, and the registry's "embedded" upstream pointed at
 * GENERATION_UPSTREAM_URL when it is set. With BILLING_TABLE and USAGE_TABLE set (the CDK stack sets them) keys,
 * rate limits and usage live in DynamoDB, and API keys are required unless EDGE_MAAS_AUTH=open; without them the
 * router runs unmetered. With TUNING_TABLE and TUNING_BUCKET set, fine-tuning's Files and jobs API and the tenant
 * models are served too (lambda-tuning.ts); training happens in the runner function (tuning-runner.ts).
 * With the billing tables, privacy policies and traffic routes live in the billing table too (policies-and-routes.ts),
 * and EDGE_MAAS_REGION (the CDK stack sets it from its region) says which jurisdiction this function runs in.
 * GET /metrics and one CloudWatch EMF line per request: lambda-observability.ts.
 */
import { Hono } from 'hono';
import type { AppEnv } from '../http/request-context.js';
import { buildLocalApp, readLocalRegistry } from '../node/local-app.js';
import { dynamoTablesFromEnv, openBilling } from '../node/billing-setup.js';
import { choiceFromEnv } from '../node/entry.js';
import { policiesAndRoutes } from './policies-and-routes.js';
import { awsTuningFromEnv, routerTuning, type RouterTuningOptions } from './lambda-tuning.js';
import { settleAfterBody } from './settle-after-body.js';
import { setUpStage } from './stage-setup.js';
import { lambdaObservability } from './lambda-observability.js';
import type { Registry } from '../registry/registry.js';
import type { UpstreamClient } from '../upstream/upstream-client.js';
import type { UsageSink } from '../billing/usage-writer.js';

let app: Promise<Hono<AppEnv>> | null = null;

/** What tests replace: how the router starts the runner (default: an asynchronous invoke), where EMF lines go (stdout). */
export interface LambdaAppOverrides {
  dispatch?: RouterTuningOptions['dispatch'];
  writeLog?: (line: string) => void;
}

let overrides: LambdaAppOverrides = {};

/** For tests in one process: the next build uses these (the app is built again on the next request). */
export function overrideLambdaApp(next: LambdaAppOverrides): void {
  overrides = next;
  app = null;
}

async function build(): Promise<Hono<AppEnv>> {
  let registry = await readLocalRegistry();
  if (process.env.GENERATION_UPSTREAM_URL) registry = registry.withEmbeddedUpstream(process.env.GENERATION_UPSTREAM_URL);
  const mode = dynamoTablesFromEnv() ? choiceFromEnv('EDGE_MAAS_AUTH', ['open', 'keys'], 'keys') : null;
  // Built before what its gauges read: they look the upstream client, the registry and billing up when scraped.
  let parts: { registry: Registry; upstreams: UpstreamClient; usage?: UsageSink } | undefined;
  const observed = lambdaObservability({ registry: () => parts!.registry, upstreams: () => parts?.upstreams, usage: () => parts?.usage }, { keys: mode === 'keys', write: overrides.writeLog });
  const stage = await setUpStage(registry, process.env, observed ? observed.upstreamOptions : undefined);
  parts = stage;
  const billing = mode ? await openBilling({ mode }) : null;
  if (!billing) console.warn('billing is off: set BILLING_TABLE and USAGE_TABLE to meter requests and require API keys');
  parts.usage = billing?.billing.writer;
  const tuning = awsTuningFromEnv();
  const tables = billing ? dynamoTablesFromEnv() : null;
  const { app: inner } = await buildLocalApp({
    registry: stage.registry, billing: billing?.billing, ...(tables ? await policiesAndRoutes(tables.billing, stage.registry) : {}), app: { adminToken: process.env.ADMIN_TOKEN || undefined, upstreams: stage.upstreams },
    openTuning: tuning ? routerTuning({ config: tuning, dispatch: overrides.dispatch }) : undefined,
    observability: observed ? { metrics: observed.metrics, access: observed.access } : undefined,
  });
  if (!billing) return inner;
  const router = new Hono<AppEnv>();
  router.all('*', async (c) => settleAfterBody(await inner.fetch(c.req.raw), billing.settle));
  return router;
}

export function lambdaApp(): Promise<Hono<AppEnv>> {
  app ??= build().catch((error: unknown) => {
    app = null;
    throw error;
  });
  return app;
}
