// The router Lambda's half of issue 19's items 2 and 3 (functions/lambda/stage-setup.ts): the stage's registry
// overlay, the upstream key read from the Parameters and Secrets extension's HTTP endpoint (a server on 127.0.0.1
// stands in for it), and the key sent to the GPU service's origin only.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from '../../functions/registry/registry.js';
import type { CompletionRequest } from '../../functions/protocol/openai-schemas.js';
import { applyRegistryOverlay, readUpstreamKey, setUpStage, withUpstreamKey } from '../../functions/lambda/stage-setup.js';
import { STAGES } from '../../infra/lib/config.js';
import { registryOverlay } from '../../infra/lib/registry-overlay.js';
import { repoRoot } from '../paths.js';

const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
const servers: Server[] = [];
const listen = async (handler: Parameters<typeof createServer>[1]) => {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};
let gpu: string;
let other: string;
let extension: string;
beforeAll(async () => {
  const record: Parameters<typeof createServer>[1] = (req, res) => {
    seen.push({ url: `${req.headers.host}${req.url}`, headers: req.headers });
    res.end('{}');
  };
  gpu = await listen(record);
  other = await listen(record);
  extension = await listen((req, res) => {
    const ok = req.headers['x-aws-parameters-secrets-token'] === 'session-token' && req.url === `/secretsmanager/get?secretId=${encodeURIComponent('arn:key')}`;
    res.statusCode = ok ? 200 : 400;
    res.end(ok ? JSON.stringify({ SecretString: 'k3y' }) : 'bad request');
  });
});
afterAll(() => Promise.all(servers.map((s) => new Promise((done) => s.close(done)))));

describe('the router\'s stage setup', () => {
  it('reads the upstream key through the extension with the session token, and fails loudly when it cannot', async () => {
    const port = new URL(extension).port;
    expect(await readUpstreamKey({ UPSTREAM_KEY_SECRET_ARN: 'arn:key', PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: port, AWS_SESSION_TOKEN: 'session-token' })).toBe('k3y');
    await expect(readUpstreamKey({ UPSTREAM_KEY_SECRET_ARN: 'arn:key', PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: port, AWS_SESSION_TOKEN: 'wrong' })).rejects.toThrow(/could not be read \(400\)/);
    expect(await readUpstreamKey({})).toBeUndefined();
  });

  it('sends the key to the GPU service only, and leaves a caller\'s own Authorization alone', async () => {
    const keyed = withUpstreamKey(fetch, `${gpu}/`, 'k3y');
    await keyed(`${gpu}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await keyed(`${other}/elsewhere`);
    await keyed(new Request(`${gpu}/v1/completions`, { headers: { authorization: 'Bearer mine' } }));
    expect(seen.map((s) => [s.url.replace(/^127\.0\.0\.1:\d+/, (h) => (`http://${h}` === gpu ? 'gpu' : 'other')), s.headers.authorization ?? null, s.headers['content-type'] ?? null])).toEqual([
      ['gpu/v1/chat/completions', 'Bearer k3y', 'application/json'],
      ['other/elsewhere', null, null],
      ['gpu/v1/completions', 'Bearer mine', null],
    ]);
  });

  it('puts each stage\'s GPU model in place of the checkout\'s generation models, with the documented wake-up', async () => {
    const base = Registry.parse(JSON.parse(await readFile(join(repoRoot, 'models', 'registry.json'), 'utf8')));
    const prod = STAGES.prod!;
    const registry = applyRegistryOverlay(base, JSON.stringify(registryOverlay(prod, 'https://gpu.acme.dev')));
    expect(registry.resolve('stories260K')).toBeUndefined();
    expect(registry.resolve('qwen-small')?.upstreams).toEqual([{ url: 'https://gpu.acme.dev', model: 'qwen2.5-1.5b-instruct', region: 'us' }]);
    expect(registry.resolve()?.id).toBe(base.resolve()?.id); // the default (classification) model stays
    expect(applyRegistryOverlay(base, undefined)).toBe(base);
    const dev = STAGES.dev!;
    const devRegistry = applyRegistryOverlay(base, JSON.stringify(registryOverlay(dev, 'https://gpu.acme.dev')));
    expect(devRegistry.resolve('tiny-stories')?.upstreams).toEqual([{ url: 'https://gpu.acme.dev', model: 'stories260K', warmupSeconds: dev.wakeSeconds, region: 'us' }]);
  });

  it('gives the router an upstream client that sends the key to the GPU service, without patching global fetch', async () => {
    const before = globalThis.fetch;
    const port = new URL(extension).port;
    const env = { UPSTREAM_KEY_SECRET_ARN: 'arn:key', PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: port, AWS_SESSION_TOKEN: 'session-token', GENERATION_UPSTREAM_URL: gpu };
    const base = Registry.parse(JSON.parse(await readFile(join(repoRoot, 'models', 'registry.json'), 'utf8')));
    const stage = await setUpStage(base, env);
    expect(globalThis.fetch).toBe(before);
    seen.length = 0;
    const call = { kind: 'completion' as const, request: { model: 'm', prompt: 'x' } as CompletionRequest, body: { prompt: 'x' }, signal: new AbortController().signal };
    const answer = await stage.upstreams.generator([{ url: gpu, model: 'm' }]).generate(call);
    expect(answer.status).toBe(200);
    expect(seen.map((s) => s.headers.authorization)).toEqual(['Bearer k3y']);
  });
});

