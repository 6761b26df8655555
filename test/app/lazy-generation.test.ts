// The router's embedded generation server (startLazyGenerationServer) listens at once and loads its decoder on its
// first request, so that npm start answers classifications without waiting for stories260K; a folder without the
// decoder's files is refused at start (the router then runs without generation), and one that still fails to load
// answers 503 in the API's error shape.
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFolderError } from '../../functions/engine/model-config.js';
import { startLazyGenerationServer } from '../../functions/node/start-generation-server.js';
import { storiesDir } from '../paths.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lazy-generation-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const complete = (url: string) => fetch(`${url}/v1/completions`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'stories260K', prompt: 'Once upon a time', max_tokens: 4, temperature: 0 }),
});

describe('the lazy generation server', () => {
  it('listens without loading the decoder; concurrent first requests share one load and are answered', async () => {
    const server = await startLazyGenerationServer({ port: 0 });
    try {
      expect(server.loaded()).toBeNull();
      const answers = await Promise.all([complete(server.url), complete(server.url)]);
      expect(answers.map((a) => a.status)).toEqual([200, 200]);
      const texts = await Promise.all(answers.map(async (a) => ((await a.json()) as { choices: { text: string }[] }).choices[0]!.text));
      expect(texts[0]).toBe(texts[1]);
      expect(server.loaded()?.decoder.shape.maxPositions).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });

  it('refuses at start a folder without the decoder files, naming them', async () => {
    const empty = join(dir, 'empty');
    await mkdir(empty);
    const failed = await startLazyGenerationServer({ port: 0, modelDir: empty }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(ModelFolderError);
    expect((failed as Error).message).toContain('config.json, tokenizer.json, onnx/model.onnx');
  });

  it('answers 503 with the reason when the decoder does not load', async () => {
    const broken = join(dir, 'broken');
    await mkdir(join(broken, 'onnx'), { recursive: true });
    for (const file of ['config.json', 'tokenizer.json']) await copyFile(join(storiesDir, file), join(broken, file));
    await writeFile(join(broken, 'onnx', 'model.onnx'), 'not an onnx model');
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (message: string) => void warnings.push(message);
    const server = await startLazyGenerationServer({ port: 0, modelDir: broken });
    try {
      for (let i = 0; i < 2; i++) {
        const res = await complete(server.url);
        expect(res.status).toBe(503);
        const body = (await res.json()) as { error: { message: string; code: string } };
        expect(body.error.code).toBe('model_unavailable');
        expect(body.error.message).toMatch(/^generation is off: /);
      }
      expect(warnings).toHaveLength(1); // loaded, and said, once
      expect(server.loaded()).toBeNull();
    } finally {
      console.warn = warn;
      await server.close();
    }
  });
});
