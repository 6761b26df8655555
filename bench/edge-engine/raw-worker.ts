/**
 * A bare Worker for bench:edge-engine: the limit inside workerd. POST /run with token ids ({"ids": [...]}, pre-
 * tokenised by the caller) runs one session.run of the int8 sst2-bert on onnxruntime-web as the real Worker sets it
 * up (functions/worker/ort-workerd.ts) and answers the logits; GET /noop answers at once (the baseline). No app,
 * no billing, no registry: what is left is the dev proxy, the request, and the wasm.
 */
// @ts-expect-error -- wrangler's Data rule (raw-worker.toml) makes the .onnx import an ArrayBuffer; TypeScript knows no such module
import model from '../../models/sst2-bert/onnx/model_quantized.onnx';
import { workerdSessionFactory } from '../../functions/worker/ort-workerd.js';
import type { OrtSessionHandle } from '../../functions/engine/loading/classifier-from-files.js';

let handle: Promise<OrtSessionHandle> | null = null;

export default {
  async fetch(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path === '/noop') return new Response('{}', { headers: { 'content-type': 'application/json' } });
    if (path !== '/run' || request.method !== 'POST') return new Response('{"error":"not found"}', { status: 404 });
    handle ??= workerdSessionFactory()(new Uint8Array(model as ArrayBuffer));
    const { session, createTensor } = await handle;
    const { ids } = (await request.json()) as { ids: number[] };
    const shape = [1, ids.length];
    const feeds = {
      input_ids: createTensor('int64', BigInt64Array.from(ids, BigInt), shape),
      attention_mask: createTensor('int64', new BigInt64Array(ids.length).fill(1n), shape),
      token_type_ids: createTensor('int64', new BigInt64Array(ids.length), shape),
    };
    const out = await session.run(feeds);
    return Response.json({ logits: Array.from(out.logits!.data as Float32Array) });
  },
};
