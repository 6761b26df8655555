/**
 * An Idempotency-Key replay names the version that answered, as the first answer did, through the real Node server
 * (keys mode, SQLite): a classification, a generation (whole and streamed, through a recording upstream), and a
 * replay after the alias was routed to another version, which still names the version whose answer it repeats; and
 * it says what the first answer said the text sent out held (x-edge-maas-pii).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyWith, startKeysServer, type KeysServer } from '../billing/helpers.js';
import { recordingUpstream, type RecordingUpstream } from './recording-upstream.js';

const VERSION = 'x-edge-maas-model-version';

let upstream: RecordingUpstream;
let running: KeysServer;
let key: string;

beforeAll(async () => {
  upstream = await recordingUpstream();
  running = await startKeysServer({ generationUrl: upstream.url, fineTuning: false });
  key = (await running.admin.key('replay_version', { rpm: 10_000 })).key;
}, 60_000);
afterAll(async () => {
  await running?.close();
  await upstream?.close();
});

const chat = (idempotencyKey: string, stream: boolean) =>
  fetch(`${running.server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'idempotency-key': idempotencyKey },
    body: JSON.stringify({ model: 'stories260K', messages: [{ role: 'user', content: 'Tell me a story' }], max_tokens: 8, stream }),
  });

describe('an Idempotency-Key replay', () => {
  it('names the classification\'s version, as the first answer did', async () => {
    const first = await classifyWith(running.server.url, key, { input: 'a fine film' }, { 'idempotency-key': 'replay-classify-1' });
    const again = await classifyWith(running.server.url, key, { input: 'a fine film' }, { 'idempotency-key': 'replay-classify-1' });
    expect([first.status, again.status]).toEqual([200, 200]);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get(VERSION)).toMatch(/^[\w.-]+@\w+$/);
    expect(again.headers.get(VERSION)).toBe(first.headers.get(VERSION));
    expect(again.headers.get('content-type')).toBe(first.headers.get('content-type'));
    expect(await again.text()).toBe(await first.text());
  });

  it('names the generation\'s version, whole and streamed', async () => {
    for (const stream of [false, true]) {
      const first = await chat(`replay-chat-${stream}`, stream);
      const firstBody = await first.text();
      const again = await chat(`replay-chat-${stream}`, stream);
      expect([first.status, again.status]).toEqual([200, 200]);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(first.headers.get(VERSION)).toMatch(/^stories260K@\w+$/);
      expect(again.headers.get(VERSION)).toBe(first.headers.get(VERSION));
      expect(again.headers.get('content-type')).toBe(first.headers.get('content-type'));
      expect(await again.text()).toBe(firstBody);
    }
    expect(upstream.received).toHaveLength(2); // the replays never reached the upstream (this test runs before the PII one)
  });

  it('says what the first answer\'s text held (x-edge-maas-pii), whole and streamed', async () => {
    for (const stream of [false, true]) {
      const send = () => fetch(`${running.server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'idempotency-key': `replay-pii-${stream}`, 'x-edge-maas-privacy': 'pii=mask' },
        body: JSON.stringify({ model: 'stories260K', messages: [{ role: 'user', content: 'mail jane.doe@example.com' }], max_tokens: 8, stream }),
      });
      const first = await send();
      const firstBody = await first.text();
      const again = await send();
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(first.headers.get('x-edge-maas-pii')).toBe('email=1');
      expect(again.headers.get('x-edge-maas-pii')).toBe('email=1');
      expect(await again.text()).toBe(firstBody);
    }
  });

  it('names the version whose answer it repeats after the alias was routed to another one', async () => {
    const put = (version: string) => running.admin.call('PUT', '/routes/sentiment', { weights: { [version]: 100 } });
    expect((await put('sst2-glove-bilstm@2')).status).toBe(200);
    const headers = { 'idempotency-key': 'replay-routed-1' };
    const first = await classifyWith(running.server.url, key, { model: 'sentiment', input: 'not bad at all' }, headers);
    expect(first.headers.get(VERSION)).toBe('sst2-glove-bilstm@2');
    expect((await put('sst2-bert@3')).status).toBe(200);
    const routedNow = await classifyWith(running.server.url, key, { model: 'sentiment', input: 'not bad at all' });
    expect(routedNow.headers.get(VERSION)).toBe('sst2-bert@3');
    const again = await classifyWith(running.server.url, key, { model: 'sentiment', input: 'not bad at all' }, headers);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get(VERSION)).toBe('sst2-glove-bilstm@2');
    expect(await again.text()).toBe(await first.text());
    expect((await running.admin.call('DELETE', '/routes/sentiment')).status).toBe(200);
  });
});
