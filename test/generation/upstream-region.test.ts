/**
 * Region pinning end to end: the real Node server (keys mode, SQLite, admin API, located in `eu`) in front of real
 * OpenAI-compatible upstreams on 127.0.0.1 tagged `eu` and `us` that record every body they receive. A key pinned to
 * eu (its own pin or its tenant's) reaches only eu upstreams, for chat and completions, whole and streamed; failover
 * stays inside eu; with the eu upstreams down the answer is 503 region_unavailable (with a Retry-After), with none
 * configured 403 region_not_here (no retry changes it), and the us upstream has received nothing. An unpinned key reaches either; the header narrows a request but never widens a pin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyWith, startKeysServer, type KeysServer } from '../billing/helpers.js';
import { closedPort } from './upstream-helpers.js';
import { recordingUpstream, regionalRegistry, type RecordingUpstream } from './region-helpers.js';
import { RegistryError } from '../../functions/registry/registry.js';

let eu: RecordingUpstream;
let euSpare: RecordingUpstream;
let us: RecordingUpstream;
let running: KeysServer;

beforeAll(async () => {
  [eu, euSpare, us] = await Promise.all([recordingUpstream('eu'), recordingUpstream('eu-spare'), recordingUpstream('us')]);
  const [down, alsoDown] = [await closedPort(), await closedPort()];
  const registry = regionalRegistry({
    // us first: an unpinned request goes there, a pinned one must skip it.
    mixed: [{ url: us.url, region: 'us' }, { url: eu.url, region: 'eu' }],
    failover: [{ url: `http://127.0.0.1:${down}`, region: 'eu' }, { url: us.url, region: 'us' }, { url: euSpare.url, region: 'eu' }],
    'eu-down': [{ url: `http://127.0.0.1:${alsoDown}`, region: 'eu' }, { url: us.url, region: 'us' }],
    'us-only': [{ url: us.url, region: 'us' }],
    untagged: [{ url: us.url }],
  });
  running = await startKeysServer({ registry, region: 'eu', generation: false, fineTuning: false, upstreamIdleTimeoutMs: 5_000 });
}, 120_000);
afterAll(async () => {
  await running?.close();
  await Promise.all([eu, euSpare, us].map((u) => u?.close()));
});

// us.hits: any request at all, a health probe included, is a call to the wrong region.
const counts = () => ({ eu: eu.bodies.length, euSpare: euSpare.bodies.length, us: us.bodies.length, usHits: us.hits });

type Kind = 'chat' | 'completion';
function generate(key: string, model: string, kind: Kind, stream: boolean, headers: Record<string, string> = {}) {
  const body = kind === 'chat' ? { messages: [{ role: 'user', content: 'where are you?' }] } : { prompt: 'where are you?' };
  return fetch(`${running.server.url}/v1/${kind === 'chat' ? 'chat/completions' : 'completions'}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
    body: JSON.stringify({ model, max_tokens: 8, stream, ...body }),
  });
}

/** The text of an answer, whole or streamed: which upstream wrote it. */
async function answerText(response: Response): Promise<string> {
  const text = await response.text();
  if (!(response.headers.get('content-type') ?? '').includes('event-stream')) {
    const json = JSON.parse(text) as { choices: Array<{ text?: string; message?: { content: string } }> };
    return json.choices[0]!.text ?? json.choices[0]!.message!.content;
  }
  return text.split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => {
    const choice = (JSON.parse(e.slice(6)) as { choices: Array<{ text?: string; delta?: { content?: string } }> }).choices[0];
    return choice?.text ?? choice?.delta?.content ?? '';
  }).join('');
}

const errorOf = async (response: Response) => ((await response.json()) as { error: { code: string; message: string; param: string | null } }).error;
const setPolicy = (scope: 'keys' | 'tenants', id: string, body: unknown) => running.admin.call('PUT', `/${scope}/${id}/privacy`, body);

async function pinnedKey(tenant: string, region = 'eu') {
  const key = await running.admin.key(tenant, { rpm: 10_000 });
  expect((await setPolicy('keys', key.id, { region })).status).toBe(200);
  return key;
}

const CALLS: Array<[Kind, boolean]> = [['chat', false], ['chat', true], ['completion', false], ['completion', true]];

describe('region pinning through a real server', () => {
  it('admin API: sets, shows and clears a pin; an unknown region or one no upstream serves is a 400 naming region, and the pin stays', async () => {
    const key = await running.admin.key('pinco');
    expect((await running.admin.call('GET', `/keys/${key.id}/privacy`)).body).toMatchObject({ region: null, region_source: 'default' });
    expect((await setPolicy('keys', key.id, { region: 'eu' })).body).toMatchObject({ pii: 'off', retention: 'standard', region: 'eu', source: 'key', region_source: 'key' });
    const unknown = await setPolicy('keys', key.id, { region: 'mars' });
    expect(unknown.status).toBe(400);
    expect((unknown.body as any).error).toMatchObject({ param: 'region', code: 'invalid_value' });
    const unserved = await setPolicy('keys', key.id, { region: 'jp' });
    expect(unserved.status).toBe(400);
    expect((unserved.body as any).error).toMatchObject({ param: 'region', code: 'region_not_served' });
    expect((unserved.body as any).error.message).toContain('eu, us');
    expect((await setPolicy('keys', key.id, { region: 7 })).status).toBe(400);
    expect((await running.admin.call('GET', `/keys/${key.id}/privacy`)).body).toMatchObject({ region: 'eu' });
    expect((await setPolicy('keys', key.id, { region: null })).body).toMatchObject({ region: null, region_source: 'default' });
  });

  it('a pinned key reaches only the eu upstream, for chat and completions, whole and streamed', async () => {
    const key = await pinnedKey('euco');
    const before = counts();
    for (const [kind, stream] of CALLS) {
      const response = await generate(key.key, 'mixed', kind, stream);
      expect(response.status, `${kind} stream=${stream}`).toBe(200);
      expect(response.headers.get('x-edge-maas-privacy')).toBe('pii=off; retention=standard; region=eu');
      expect(await answerText(response)).toBe('answered by eu');
    }
    expect(counts()).toEqual({ ...before, eu: before.eu + CALLS.length });
    expect(eu.bodies.slice(-CALLS.length).map((b) => b.model)).toEqual(Array(CALLS.length).fill('mixed-served'));
  });

  it('an unpinned key reaches either region: the registry order, and failover across regions', async () => {
    const key = await running.admin.key('anyco', { rpm: 10_000 });
    const before = counts();
    const first = await generate(key.key, 'mixed', 'chat', false);
    expect(first.headers.get('x-edge-maas-privacy')).toBe('pii=off; retention=standard');
    expect(await answerText(first)).toBe('answered by us');
    expect(await answerText(await generate(key.key, 'failover', 'completion', true))).toBe('answered by us');
    expect(counts()).toEqual({ ...before, us: before.us + 2, usHits: before.usHits + 2 });
  });

  it('failover stays inside the region: a down eu upstream passes a pinned request to the next eu one, skipping us', async () => {
    const key = await pinnedKey('failco');
    const before = counts();
    for (const [kind, stream] of CALLS) {
      const response = await generate(key.key, 'failover', kind, stream);
      expect(response.status).toBe(200);
      expect(await answerText(response)).toBe('answered by eu-spare');
    }
    expect(counts()).toEqual({ ...before, euSpare: before.euSpare + CALLS.length });
  });

  it('with the only eu upstream down a pinned request is answered 503 region_unavailable, with none configured 403 region_not_here; us receives nothing', async () => {
    const key = await pinnedKey('downco');
    const before = counts();
    // Enough calls for the down upstream's circuit to open: the answer stays the same, with a Retry-After.
    for (let i = 0; i < 4; i++) {
      for (const [kind, stream] of CALLS) {
        const response = await generate(key.key, 'eu-down', kind, stream);
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
        const error = await errorOf(response);
        expect(error.code).toBe('region_unavailable');
        expect(error.message).toContain('region eu');
      }
    }
    for (const model of ['us-only', 'untagged']) {
      const response = await generate(key.key, model, 'chat', false);
      expect(response.status).toBe(403);
      expect(response.headers.get('retry-after')).toBeNull();
      const error = await errorOf(response);
      expect(error.code).toBe('region_not_here');
      expect(error.message).toMatch(/no upstream of this model is in region eu/);
    }
    expect(counts()).toEqual(before);
  });

  it("a tenant's pin holds for its keys, also for a key given a pii policy of its own", async () => {
    const key = await running.admin.key('tenantpin', { rpm: 10_000 });
    expect((await setPolicy('tenants', 'tenantpin', { region: 'eu', pii: 'mask' })).status).toBe(200);
    expect((await setPolicy('keys', key.id, { retention: 'none' })).body).toMatchObject({ pii: 'mask', retention: 'none', region: 'eu', source: 'key', region_source: 'tenant' });
    const before = counts();
    expect(await answerText(await generate(key.key, 'mixed', 'chat', true))).toBe('answered by eu');
    expect((await generate(key.key, 'us-only', 'completion', false)).status).toBe(403);
    expect(counts()).toEqual({ ...before, eu: before.eu + 1 });
  });

  it('the header narrows an unpinned request to a region, and never widens or moves a pin (403 region_conflict, nothing sent)', async () => {
    const open = await running.admin.key('narrowco', { rpm: 10_000 });
    const pinned = await pinnedKey('widenco');
    const before = counts();
    const narrowed = await generate(open.key, 'mixed', 'completion', false, { 'x-edge-maas-privacy': 'region=eu' });
    expect(narrowed.headers.get('x-edge-maas-privacy')).toBe('pii=off; retention=standard; region=eu');
    expect(await answerText(narrowed)).toBe('answered by eu');
    expect((await generate(open.key, 'us-only', 'chat', true, { 'x-edge-maas-privacy': 'region=eu' })).status).toBe(403);
    expect(await answerText(await generate(pinned.key, 'mixed', 'chat', false, { 'x-edge-maas-privacy': 'region=eu' }))).toBe('answered by eu');
    for (const [kind, stream] of CALLS) {
      const widened = await generate(pinned.key, 'mixed', kind, stream, { 'x-edge-maas-privacy': 'region=us' });
      expect(widened.status).toBe(403);
      expect(await errorOf(widened)).toMatchObject({ code: 'region_conflict', param: 'x-edge-maas-privacy' });
    }
    const unknown = await generate(open.key, 'mixed', 'chat', false, { 'x-edge-maas-privacy': 'region=atlantis' });
    expect(unknown.status).toBe(400);
    expect((await errorOf(unknown)).param).toBe('x-edge-maas-privacy');
    expect(counts()).toEqual({ ...before, eu: before.eu + 2 });
  });

  it('in-process classification of a pinned key runs only where the server is located (eu here): us-pinned is 403 region_not_here', async () => {
    const euKey = await pinnedKey('classeu');
    const usKey = await pinnedKey('classus', 'us');
    expect((await classifyWith(running.server.url, euKey.key)).status).toBe(200);
    const refused = await classifyWith(running.server.url, usKey.key);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('retry-after')).toBeNull();
    expect(await errorOf(refused)).toMatchObject({ code: 'region_not_here' });
    const hf = await fetch(`${running.server.url}/models/sentiment`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${usKey.key}` }, body: JSON.stringify({ inputs: 'a fine film' }),
    });
    expect(hf.status).toBe(403);
    const open = await running.admin.key('classopen', { rpm: 10_000 });
    expect((await classifyWith(running.server.url, open.key, { input: 'a fine film' }, { 'x-edge-maas-privacy': 'region=us' })).status).toBe(403);
  });
});

describe('regions in the registry', () => {
  it('an upstream region must be one of the known regions, named in the error', () => {
    expect(regionalRegistry({ g: [{ url: 'http://127.0.0.1:1', region: 'ch' }] }).resolve('g')!.upstreams[0]!.region).toBe('ch');
    for (const region of ['EU', 'europe', '']) {
      expect(() => regionalRegistry({ g: [{ url: 'http://127.0.0.1:1', region }] })).toThrow(RegistryError);
    }
    expect(() => regionalRegistry({ g: [{ url: 'http://127.0.0.1:1', region: 'mars' }] })).toThrow(/model g upstreams\[0\]: "region" must be one of eu, us/);
  });
});
