/**
 * The AWS side of the cost model: the Lambda router's handler (functions/lambda/handler.ts, the same app the
 * streaming entry serves) invoked in this process as the tests invoke it, with its DynamoDB billing on dynalite behind
 * the counting proxy (dynamo-meter.ts, in a process of its own: dynamo-process.ts) and a real generation server for
 * streams. Per request type: invocations, measured wall time and CPU time, DynamoDB round trips and units, and the
 * bytes the invocation logs.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DynamoBillingStore } from '../../../functions/billing/dynamo/dynamo-billing-store.js';
import { documentClient } from '../../../functions/billing/dynamo/dynamo-client.js';
import { repoRoot } from '../../../functions/node/shared-paths.js';
import { startGenerationServer } from '../../../functions/node/start-generation-server.js';
import '../../../test/billing/local-dynamodb.js'; // the SDK's local credentials and region
import { functionUrlEvent, lambdaContext, type BufferedResult } from '../../../test/app/lambda-events.js';
import { BAD_KEY, type CostRequest, type RequestKind } from '../requests.js';
import { epochMs, type CallSpan, type DynamoUnits } from './dynamo-meter.js';
import { startDynamoProcess } from './dynamo-process.js';

export interface AwsMeasurement {
  kind: RequestKind;
  requests: number;
  invocations: number;
  /** Each invocation's duration as measured here (ms, wall time over dynalite), in order. */
  durationsMs: number[];
  /** Each invocation's CPU time in this process (ms, user + system): the router's own work (dynalite runs apart). */
  cpuMs: number[];
  /** Each invocation's DynamoDB round trips one after another (calls that overlap in time count once). */
  roundTrips: number[];
  dynamo: DynamoUnits;
  /** What the handler wrote to stdout/stderr (console.*), in events (one per write) and bytes. */
  logEvents: number;
  logBytes: number;
  statuses: number[];
  /** What metering recorded for these requests (registry prices): requests, their cost and tokens, summed. */
  usage: { records: number; costMicroUsd: number; inputTokens: number; outputTokens: number };
}

export interface RouterConfig {
  memoryMb: number;
  architecture: 'arm64' | 'x86_64';
  /** The level of Lambda's own log lines with the JSON log format; undefined: text format (every line logged). */
  systemLogLevel?: string;
}

/** The router function's memory, architecture and system log level as infra/lib/router-function.ts configures them. */
export async function routerConfig(): Promise<RouterConfig> {
  const source = await readFile(join(repoRoot, 'infra', 'lib', 'router-function.ts'), 'utf8');
  const memory = /memorySize:\s*(?:ROUTER_MEMORY_MB|(\d+))/.exec(source);
  const constant = /ROUTER_MEMORY_MB\s*=\s*(\d+)/.exec(source);
  const architecture = /Architecture\.(ARM_64|X86_64)/.exec(source);
  if (!memory || !(memory[1] ?? constant?.[1]) || !architecture) throw new Error('infra/lib/router-function.ts no longer names memorySize and architecture where the cost bench looks');
  const json = /loggingFormat:\s*lambda\.LoggingFormat\.JSON/.test(source);
  const level = /systemLogLevelV2:\s*lambda\.SystemLogLevel\.(\w+)/.exec(source);
  return {
    memoryMb: Number(memory[1] ?? constant![1]), architecture: architecture[1] === 'ARM_64' ? 'arm64' : 'x86_64',
    ...(json ? { systemLogLevel: level?.[1] ?? 'INFO' } : {}),
  };
}

/** Counts the bytes written to stdout and stderr while `work` runs (the Lambda runtime sends them to CloudWatch). */
async function capturingLogs<T>(work: () => Promise<T>): Promise<{ value: T; events: number; bytes: number }> {
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((s) => s.write);
  let events = 0;
  let bytes = 0;
  streams.forEach((stream, i) => {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      events += 1;
      bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      return (originals[i] as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
    }) as typeof stream.write;
  });
  try {
    return { value: await work(), events, bytes };
  } finally {
    streams.forEach((stream, i) => { stream.write = originals[i]!; });
  }
}

export interface AwsOptions {
  requests: number;
  warmup: number;
}

const ADMIN_TOKEN = 'bench-cost-admin';

/** Sequential round trips among the calls answered in [from, to]: overlapping calls are one wait. */
export function sequentialRoundTrips(spans: CallSpan[], from: number, to: number): number {
  const inside = spans.filter((s) => s.start >= from && s.end <= to).sort((a, b) => a.start - b.start);
  let trips = 0;
  let end = -Infinity;
  for (const span of inside) {
    if (span.start >= end) trips += 1;
    end = Math.max(end, span.end);
  }
  return trips;
}

/** Requests (a roll-up counts those it sums), cost and tokens of usage records. */
const totals = (records: { requests?: number; costMicroUsd: number; inputTokens: number; outputTokens: number }[]) => ({
  records: records.reduce((sum, r) => sum + (r.requests ?? 1), 0),
  costMicroUsd: records.reduce((sum, r) => sum + r.costMicroUsd, 0),
  inputTokens: records.reduce((sum, r) => sum + r.inputTokens, 0),
  outputTokens: records.reduce((sum, r) => sum + r.outputTokens, 0),
});

const cpuNowMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

export async function measureAws(requests: CostRequest[], options: AwsOptions): Promise<AwsMeasurement[]> {
  const dynamo = await startDynamoProcess();
  const client = documentClient(dynamo.directEndpoint);
  const generation = await startGenerationServer({ port: 0 });
  const env = {
    BILLING_TABLE: dynamo.tables.billing, USAGE_TABLE: dynamo.tables.usage, DYNAMODB_ENDPOINT: dynamo.endpoint,
    GENERATION_UPSTREAM_URL: generation.url, ADMIN_TOKEN, EDGE_MAAS_AUTH: 'keys',
    ORT_BACKEND: 'wasm', // the Lambda bundle carries onnxruntime-web only (infra/lib/router-function.ts)
  };
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  try {
    const { handler } = await import('../../../functions/lambda/handler.js');
    const invoke = async (method: string, path: string, body: string, headers: Record<string, string>) =>
      (await handler(functionUrlEvent(method, path, body, { 'content-type': 'application/json', ...headers }), lambdaContext)) as BufferedResult;
    const admin = async (path: string, body: unknown) => {
      const res = await invoke('POST', path, JSON.stringify(body), { authorization: `Bearer ${ADMIN_TOKEN}` });
      if (res.statusCode !== 201) throw new Error(`POST ${path} answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
      return JSON.parse(res.body) as { key: string };
    };
    await admin('/admin/tenants', { id: 'bench_cost' });
    const keys = { good: (await admin('/admin/keys', { tenant: 'bench_cost', rpm: 1_000_000 })).key, limited: (await admin('/admin/keys', { tenant: 'bench_cost', rpm: 1 })).key, bad: BAD_KEY };

    const store = new DynamoBillingStore(client, dynamo.tables);
    const results: AwsMeasurement[] = [];
    for (const request of requests) {
      let sent = 0;
      const send = () => invoke(request.method, request.path, request.body, { authorization: `Bearer ${keys[request.key]}`, 'x-request-id': `cost-${request.kind}-${sent++}` });
      for (let i = 0; i < options.warmup; i++) await send();
      const before = totals(await store.usageRecords({ from: 0, to: Date.now() + 1, tenantId: 'bench_cost' }));
      await dynamo.reset();
      const durationsMs: number[] = [];
      const cpuMs: number[] = [];
      const windows: [number, number][] = [];
      const statuses: number[] = [];
      let logEvents = 0;
      let logBytes = 0;
      for (let i = 0; i < options.requests; i++) {
        const [t0, cpu0, from] = [performance.now(), cpuNowMs(), epochMs()];
        const { value, events, bytes } = await capturingLogs(send);
        cpuMs.push(cpuNowMs() - cpu0);
        durationsMs.push(performance.now() - t0);
        windows.push([from, epochMs()]);
        statuses.push(value.statusCode);
        logEvents += events;
        logBytes += bytes;
      }
      const { units, spans } = await dynamo.read();
      const roundTrips = windows.map(([from, to]) => sequentialRoundTrips(spans, from, to));
      if (statuses.some((s) => s !== request.status)) throw new Error(`${request.kind}: expected ${request.status}, the router answered ${statuses.join(',')}`);
      // Classifications are recorded in the key's minute roll-ups, which hold no request ids: what metering recorded
      // for the counted requests is the tenant's usage after them less its usage before them.
      const recorded = totals(await store.usageRecords({ from: 0, to: Date.now() + 1, tenantId: 'bench_cost' }));
      const usage = {
        records: recorded.records - before.records, costMicroUsd: recorded.costMicroUsd - before.costMicroUsd,
        inputTokens: recorded.inputTokens - before.inputTokens, outputTokens: recorded.outputTokens - before.outputTokens,
      };
      results.push({ kind: request.kind, requests: options.requests, invocations: options.requests, durationsMs, cpuMs, roundTrips, dynamo: units, logEvents, logBytes, statuses, usage });
    }
    return results;
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await generation.close();
    client.destroy();
    await dynamo.close();
  }
}

if (process.argv[1]?.endsWith('measure-aws.ts')) {
  const { costRequests } = await import('../requests.js');
  const texts = Array.from({ length: 64 }, (_, i) => `sentence number ${i} of a fine film .`);
  const results = await measureAws(costRequests(texts), { requests: 3, warmup: 1 });
  for (const r of results) console.log(r.kind, r.statuses.join(','), r.durationsMs.map((d) => d.toFixed(1)).join(' '), 'cpu', r.cpuMs.map((d) => d.toFixed(1)).join(' '), 'trips', r.roundTrips.join(' '), r.logEvents, r.logBytes, JSON.stringify(r.dynamo), JSON.stringify(r.usage));
}
