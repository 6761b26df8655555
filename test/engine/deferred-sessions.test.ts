/**
 * Cold start: the app built over models/ is ready once the default model is; the other edge models' sessions are
 * made afterwards, and a request for one of them before then waits for its session (no 404, no error) and gets the
 * same answer as from an app that loaded every model before it was returned. On real onnxruntime-node sessions of
 * the committed models; DeferredSessions alone over a real session factory.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DeferredSessions } from '../../functions/engine/loading/deferred-sessions.js';
import type { SessionFactory } from '../../functions/engine/loading/classifier-from-files.js';
import { buildLocalApp, readLocalRegistry, type LocalApp } from '../../functions/node/local-app.js';
import { modelRef } from '../../functions/registry/registry.js';
import { nodeSessionFactory } from '../../functions/node/load-classifier.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '../paths.js';

const BERT = 'sst2-bert@3';
const ENCODER = 'electra-imdb-small@1';
const texts = ['a wonderful, heartfelt film', 'a dull, lifeless mess', 'it was fine'];

const classify = async (app: LocalApp['app'], model: string) => {
  const res = await app.fetch(new Request('http://local/v1/classify', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, input: texts }) }));
  return { status: res.status, body: (await res.json()) as { model: string; results: { label: string; score: number }[][] } };
};

describe('the app built over models/, default model first', () => {
  let eager: LocalApp;
  beforeAll(async () => {
    eager = await buildLocalApp({ backend: 'node', deferSessions: false });
  }, 120_000);

  it('lists every model, answers one whose session is not made yet once it is (as the eager app does), makes the rest later', async () => {
    expect(eager.sessions.pending).toEqual([]);
    // In one turn of the event loop from here to the request: the background loads start on a timer.
    const deferred = await buildLocalApp({ backend: 'node' });
    expect(deferred.sessions.pending).toEqual([BERT, ENCODER]);
    const listing = async () => (await (await deferred.app.fetch(new Request('http://local/v1/models'))).json()) as { data: { id: string }[] };
    const [late, listed] = await Promise.all([classify(deferred.app, BERT), listing()]);
    expect(listed.data.map((m) => m.id)).toEqual(expect.arrayContaining([modelRef((await readLocalRegistry()).resolve()!), BERT]));
    expect(late.status).toBe(200);
    expect(late.body.model).toBe(BERT);
    expect(deferred.sessions.pending).toEqual([ENCODER]);
    const early = await classify(eager.app, BERT);
    late.body.results.forEach((ranked, i) => ranked.forEach((r, k) => {
      expect(r.label).toBe(early.body.results[i]![k]!.label);
      expect(r.score).toBeCloseTo(early.body.results[i]![k]!.score, 4);
    }));
    await deferred.sessions.loadAll();
    expect(deferred.sessions.pending).toEqual([]);
  }, 60_000);
  it('starts making the deferred sessions once the default model has answered its first classification', async () => {
    const deferred = await buildLocalApp({ backend: 'node', deferSessions: { fallbackMs: 3_600_000 } });
    expect(deferred.sessions.pending).toEqual([BERT, ENCODER]);
    const first = await deferred.app.fetch(new Request('http://local/v1/classify', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":"a fine film"}' }));
    expect(first.status).toBe(200);
    expect(deferred.sessions.pending).toEqual([BERT, ENCODER]); // not before it has answered
    for (const started = Date.now(); deferred.sessions.pending.length > 0 && Date.now() - started < 60_000;) await new Promise((r) => setTimeout(r, 20));
    expect(deferred.sessions.pending).toEqual([]);
  }, 90_000);
});

describe('DeferredSessions', () => {
  let onnx: Uint8Array;
  beforeAll(async () => {
    onnx = await readFile(join(repoRoot, 'models', 'sst2-bert', 'onnx', 'model_quantized.onnx'));
  });

  const counting = (real: SessionFactory) => {
    const made: string[] = [];
    const factory: SessionFactory = async (bytes, options) => {
      made.push('session');
      return real(bytes, options);
    };
    return { made, factory };
  };

  it('makes no session until a run needs it or loadAll, then one, then its warm-up', async () => {
    const { made, factory } = counting(nodeSessionFactory('node'));
    const later = new DeferredSessions();
    const { session, createTensor } = await later.factory('m@1', factory)(onnx);
    const order: string[] = [];
    later.afterLoad('m@1', async () => order.push(`warm-up after ${made.length} session`));
    expect(made).toEqual([]);
    expect(later.pending).toEqual(['m@1']);
    // Feeds made before the session exists, over the inputs a BERT takes (token_type_ids too, which this one may not).
    const ids = new BigInt64Array([101n, 2307n, 102n]);
    const feeds = Object.fromEntries(session.inputNames.map((name) => [name, createTensor('int64', name === 'input_ids' ? ids : name === 'attention_mask' ? new BigInt64Array([1n, 1n, 1n]) : new BigInt64Array(3), [1, 3])]));
    const out = await session.run(feeds);
    expect(made).toEqual(['session']);
    expect(Object.values(out)[0]!.dims).toEqual([1, 2]);
    await later.loadAll();
    expect(made).toEqual(['session']);
    expect(order).toEqual(['warm-up after 1 session']);
    expect(later.pending).toEqual([]);
  });

  it('tells of a session that cannot be made, and its runs fail with that error', async () => {
    const errors: string[] = [];
    const later = new DeferredSessions((ref, error) => errors.push(`${ref}: ${(error as Error).message}`));
    const { session } = await later.factory('broken@1', nodeSessionFactory('node'))(new TextEncoder().encode('not an onnx file'));
    await later.loadAll();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^broken@1: /);
    await expect(session.run({})).rejects.toThrow();
    expect(later.pending).toEqual(['broken@1']);
  });
});
