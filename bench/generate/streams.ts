/** Concurrent streamed completions: time to first token per stream and aggregate tokens per second. */
import { percentile } from '../common/stats.js';

export interface StreamRun {
  /** Each stream's time to first token, ms. */
  ttfts: number[];
  seconds: number;
  ttftP50: number;
  ttftP99: number;
  tokensPerSecond: number;
  tokens: number;
  failed: number;
}

async function oneStream(url: string, model: string, seed: number, maxTokens: number): Promise<{ ttft: number; tokens: number }> {
  const t0 = performance.now();
  const response = await fetch(`${url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, prompt: 'Once upon a time', max_tokens: maxTokens, temperature: 0.8, seed, stream: true, stream_options: { include_usage: true } }),
  });
  if (!response.ok || !response.body) throw new Error(`status ${response.status}`);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let ttft = Number.NaN;
  let tokens = -1;
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    if (Number.isNaN(ttft) && buffer.includes('"text":"') && !/"text":""/.test(buffer.split('\n\n')[0]!)) ttft = performance.now() - t0;
    const usage = /"completion_tokens":(\d+)/.exec(buffer);
    if (usage) tokens = Number(usage[1]);
    const last = buffer.lastIndexOf('\n\n');
    if (last >= 0 && !usage) buffer = buffer.slice(last + 2);
  }
  if (tokens < 0 || !buffer.includes('[DONE]')) throw new Error('the stream ended without usage and [DONE]');
  return { ttft, tokens };
}

/** `concurrency` clients, each running streams back to back, for `rounds` streams each. */
export async function streamRun(url: string, model: string, concurrency: number, rounds: number, maxTokens: number): Promise<StreamRun> {
  const ttfts: number[] = [];
  let tokens = 0;
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async (_, client) => {
    for (let round = 0; round < rounds; round++) {
      try {
        const result = await oneStream(url, model, client * 1000 + round, maxTokens);
        ttfts.push(result.ttft);
        tokens += result.tokens;
      } catch {
        failed++;
      }
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  return { ttfts, seconds, ttftP50: percentile(ttfts, 50), ttftP99: percentile(ttfts, 99), tokensPerSecond: tokens / seconds, tokens, failed };
}

/** Runs measured in turns, as one: their streams, tokens and seconds added up. */
export function combined(runs: StreamRun[]): StreamRun {
  const ttfts = runs.flatMap((r) => r.ttfts);
  const tokens = runs.reduce((n, r) => n + r.tokens, 0);
  const seconds = runs.reduce((n, r) => n + r.seconds, 0);
  return { ttfts, seconds, ttftP50: percentile(ttfts, 50), ttftP99: percentile(ttfts, 99), tokensPerSecond: tokens / seconds, tokens, failed: runs.reduce((n, r) => n + r.failed, 0) };
}
