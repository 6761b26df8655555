// The playground's "copy as code" snippets, run as a user would paste them: curl in a shell, the openai client and
// @huggingface/inference in Node, each against a real server on 127.0.0.1 with a real key from $EDGE_MAAS_API_KEY.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snippet, type SentRequest, type SnippetKind } from '../../functions/console/client/snippets.js';
import { startServer, type RunningServer } from '../../functions/node/start-server.js';
import { repoRoot } from '../paths.js';

const run = promisify(execFile);
const ADMIN = 'snippet-admin';

describe('the playground snippets, pasted and run', () => {
  let server: RunningServer;
  let key = '';
  let dir = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'console-snippets-'));
    server = await startServer({ port: 0, auth: 'keys', adminToken: ADMIN, usageDb: join(dir, 'usage.sqlite'), fineTuning: false });
    const admin = (path: string, body: unknown) => fetch(`${server.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json() as Promise<{ key?: string }>);
    await admin('/admin/tenants', { id: 'snippets' });
    key = (await admin('/admin/keys', { tenant: 'snippets' })).key!;
  });
  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs one snippet: curl through bash, the JS ones as an ES module inside the repo (so that its packages resolve). */
  async function paste(kind: SnippetKind, sent: SentRequest): Promise<string> {
    const code = snippet(kind, server.url, sent, true);
    expect(code).not.toContain(key);
    const env = { ...process.env, EDGE_MAAS_API_KEY: key };
    if (kind === 'curl') return (await run('bash', ['-c', code], { env })).stdout;
    const file = join(repoRoot, 'test', 'console', `.snippet-${kind}-${Date.now()}.mjs`);
    writeFileSync(file, code);
    try {
      return (await run(process.execPath, [file], { env, cwd: repoRoot })).stdout;
    } finally {
      rmSync(file, { force: true });
    }
  }

  const classify: SentRequest = { path: '/v1/classify', body: { model: 'sst2-bert@3', input: ['A wonderful, moving film.', 'A dull, tedious mess.'] } };
  const completion: SentRequest = { path: '/v1/completions', body: { model: 'stories260K@1', prompt: 'Once upon a time', max_tokens: 12, stream: true, stream_options: { include_usage: true } } };
  const chat: SentRequest = { path: '/v1/chat/completions', body: { model: 'stories260K@1', messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 12, stream: true, stream_options: { include_usage: true } } };

  it('classifies with curl and @huggingface/inference', async () => {
    const byCurl = JSON.parse(await paste('curl', classify)) as { results: { label: string }[][] };
    expect(byCurl.results.map((r) => r[0]!.label)).toEqual(['POSITIVE', 'NEGATIVE']);
    // One console.log of [{ label, score }, ...] per text, best first: the first label of each.
    const byHf = (await paste('huggingface', classify)).split(/^\[/m).slice(1).map((block) => /label: '(\w+)'/.exec(block)?.[1]);
    expect(byHf).toEqual(['POSITIVE', 'NEGATIVE']);
    expect(snippet('openai', server.url, classify, true)).toMatch(/^\/\/ The openai client has no classification call/);
  });

  it('streams a completion with curl and openai, and a chat with openai and @huggingface/inference', async () => {
    const streamed = await paste('curl', completion);
    expect(streamed.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect((await paste('openai', completion)).length).toBeGreaterThan(10);
    expect((await paste('openai', chat)).length).toBeGreaterThan(10);
    expect((await paste('huggingface', chat)).length).toBeGreaterThan(10);
  });
});
