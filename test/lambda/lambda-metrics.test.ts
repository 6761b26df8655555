/**
 * The Lambda router's metrics through its real handler, with DynamoDB billing on dynalite: GET /metrics behind the
 * admin token (or METRICS_TOKEN), parsed by a Prometheus text parser, its counters equal to the requests sent and
 * every sample labelled with the execution environment; with METRICS_EMF=on, one CloudWatch EMF line per answered
 * request, whose metrics and dimensions follow the EMF specification; and, in a plain Node process, those lines on
 * stdout itself, and none by default.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../paths.js';
import { useLambdaBackends } from '../app/lambda-backends.js';
import { functionUrlEvent, lambdaContext, type BufferedResult } from '../app/lambda-events.js';
import { parseScrape } from '../observability/scrape.js';

const ADMIN_TOKEN = 'lambda-metrics-admin';
const MODEL = 'sst2-glove-bilstm';
useLambdaBackends(ADMIN_TOKEN);
let lambdaApp: typeof import('../../functions/lambda/lambda-app.js');
let handler: typeof import('../../functions/lambda/handler.js').handler;
let lines: string[] = [];

beforeAll(async () => {
  process.env.METRICS_EMF = 'on';
  lambdaApp = await import('../../functions/lambda/lambda-app.js');
  ({ handler } = await import('../../functions/lambda/handler.js'));
  lambdaApp.overrideLambdaApp({ writeLog: (line) => lines.push(line) });
});
afterAll(() => {
  delete process.env.METRICS_EMF;
});

const invoke = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  (await handler(functionUrlEvent(method, path, body === undefined ? undefined : JSON.stringify(body), { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers }), lambdaContext)) as BufferedResult;
const metrics = (token?: string) => invoke('GET', '/metrics', undefined, token ? { authorization: `Bearer ${token}` } : {});

interface EmfDoc {
  _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [member: string]: unknown;
}

/** An EMF line checked against the specification's rules (the ones CloudWatch rejects a line for). */
function emfOf(line: string): EmfDoc {
  expect(line.endsWith('\n')).toBe(true);
  expect(line.slice(0, -1)).not.toContain('\n');
  const doc = JSON.parse(line) as EmfDoc;
  expect(Number.isInteger(doc._aws.Timestamp)).toBe(true);
  expect(Math.abs(doc._aws.Timestamp - Date.now())).toBeLessThan(60_000);
  for (const directive of doc._aws.CloudWatchMetrics) {
    expect(directive.Namespace).toMatch(/^[^:].{0,255}$/);
    for (const set of directive.Dimensions) {
      expect(set.length).toBeLessThanOrEqual(30);
      for (const name of set) expect(typeof doc[name] === 'string' && (doc[name] as string).length > 0 && (doc[name] as string).length <= 1024, name).toBe(true);
    }
    for (const metric of directive.Metrics) expect(typeof doc[metric.Name], metric.Name).toBe('number');
  }
  return doc;
}

describe('the Lambda router\'s metrics', () => {
  let key: string;
  let statuses: number[];

  beforeAll(async () => {
    const admin = (path: string, body: unknown) => invoke('POST', `/admin${path}`, body, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect((await admin('/tenants', { id: 'lambda_metrics' })).statusCode).toBe(201);
    key = (JSON.parse((await admin('/keys', { tenant: 'lambda_metrics', rpm: 1000 })).body) as { key: string }).key;
    lines = [];
    statuses = [];
    for (const input of ['a wonderful film', ['dull', 'a heartfelt, funny story'], 'grim']) {
      statuses.push((await invoke('POST', '/v1/classify', { model: MODEL, input }, { authorization: `Bearer ${key}` })).statusCode);
    }
    statuses.push((await invoke('POST', '/v1/classify', { model: MODEL, input: [] }, { authorization: `Bearer ${key}` })).statusCode);
    statuses.push((await invoke('POST', '/v1/classify', { input: 'no key' })).statusCode);
  }, 60_000);

  it('answers GET /metrics to the admin token only, with the JSON error of every refusal', async () => {
    expect(statuses).toEqual([200, 200, 200, 400, 401]);
    for (const token of [undefined, 'wrong-token', key]) {
      const refused = await metrics(token);
      expect(refused.statusCode).toBe(401);
      expect(JSON.parse(refused.body).error).toMatchObject({ type: 'authentication_error', code: 'invalid_metrics_token' });
    }
    expect((await metrics(ADMIN_TOKEN)).statusCode).toBe(200);
  });

  it('counts what was sent, every sample labelled with this execution environment', async () => {
    const scraped = await metrics(ADMIN_TOKEN);
    expect(scraped.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const parsed = parseScrape(scraped.body);
    const requests = parsed.samples('edge_maas_http_requests_total');
    const instances = new Set(requests.map((s) => s.labels.lambda_instance));
    expect(instances.size).toBe(1);
    const [instance] = [...instances];
    expect(instance).toMatch(/^[0-9a-f]{8}$/);
    const at = (labels: Record<string, string>) => parsed.samples('edge_maas_http_requests_total', { ...labels, lambda_instance: instance! }).reduce((n, s) => n + s.value, 0);
    expect(at({ method: 'POST', route: '/v1/classify', model: MODEL, status: '200' })).toBe(3);
    expect(at({ route: '/v1/classify', status: '400' })).toBe(1);
    expect(at({ route: '/v1/classify', status: '401' })).toBe(1);
    expect(parsed.value('edge_maas_http_request_duration_seconds', { route: '/v1/classify', model: MODEL, lambda_instance: instance! })).toBe(3);
    expect(parsed.samples('process_resident_memory_bytes', { lambda_instance: instance! })).toHaveLength(1);
  });

  it('writes one EMF line per answered request, its dimensions and metrics those of the request', () => {
    const docs = lines.map(emfOf);
    // The five requests and the admin calls before them; the scrapes are answered after (and counted as well).
    const classify = docs.filter((d) => d.Route === 'POST /v1/classify');
    expect(classify.map((d) => d.Status)).toEqual(['200', '200', '200', '400', '401']);
    expect(classify.slice(0, 3).every((d) => new RegExp(`^${MODEL}@\\w+$`).test(d.Model as string) && (d.TokensIn as number) > 0 && d.TokensOut === 0)).toBe(true);
    expect(classify[4]).toMatchObject({ Model: 'none', TokensIn: 0 });
    expect(classify.every((d) => (d.Duration as number) > 0 && (d.Duration as number) < 30)).toBe(true);
    expect(docs[0]!._aws.CloudWatchMetrics).toEqual([{
      Namespace: 'edge-maas', Dimensions: [['Route', 'Status'], ['Model']],
      Metrics: [{ Name: 'Duration', Unit: 'Seconds' }, { Name: 'TokensIn' }, { Name: 'TokensOut' }],
    }]);
    const bytes = classify.map((_, i) => Buffer.byteLength(lines[docs.indexOf(classify[i]!)]!));
    expect(Math.max(...bytes)).toBeLessThan(360);
    console.log(`EMF line bytes per classification: ${bytes.join(', ')}`);
  });

  it('takes METRICS_TOKEN instead of the admin token when it is set', async () => {
    process.env.METRICS_TOKEN = 'lambda-metrics-token';
    try {
      lambdaApp.overrideLambdaApp({ writeLog: (line) => lines.push(line) }); // a new execution environment reads it
      expect((await metrics('lambda-metrics-token')).statusCode).toBe(200);
      expect((await metrics(ADMIN_TOKEN)).statusCode).toBe(401);
    } finally {
      delete process.env.METRICS_TOKEN;
    }
  });
});

describe('the EMF lines of a plain Node process', () => {
  it('are on stdout with METRICS_EMF=on, one JSON line per request, beside nothing else the router writes there', async () => {
    const env = { ...process.env, BILLING_TABLE: '', USAGE_TABLE: '', METRICS_TOKEN: '', ADMIN_TOKEN: '', METRICS_EMF: 'on' };
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'test/lambda/fixtures/invoke-handler.ts', '3'], { cwd: repoRoot, env });
    const out = stdout.trim().split('\n');
    expect(JSON.parse(out.at(-1)!)).toEqual({ statuses: [200, 200, 200, 404] });
    const docs = out.slice(0, -1).map((line) => emfOf(`${line}\n`));
    expect(docs.map((d) => `${d.Route} ${d.Status}`)).toEqual([...Array(3).fill('POST /v1/classify 200'), 'GET unmatched 404']);
  }, 60_000);

  it('are left out by default (each is log bytes paid per request)', async () => {
    const env = { ...process.env, BILLING_TABLE: '', USAGE_TABLE: '', METRICS_EMF: '' };
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'test/lambda/fixtures/invoke-handler.ts', '2'], { cwd: repoRoot, env });
    expect(stdout.trim().split('\n')).toEqual([JSON.stringify({ statuses: [200, 200, 404] })]);
  }, 60_000);
});
