/**
 * Sequential latency of one sentence per request, and throughput under load with autocannon. Latency uses
 * node:http with a keep-alive agent: fetch (undici) alone costs ~0.5 ms a request here, which would hide
 * what the servers differ by.
 */
import { Agent, request } from 'node:http';
import autocannon from 'autocannon';
import { percentile } from '../common/stats.js';

const body = (text: string, model?: string) => JSON.stringify(model ? { model, input: text } : { input: text });
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function post(url: string, payload: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/classify`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers } }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** `model`: the request's model field (default: none, the registry's default model). */
export async function sequentialLatency(url: string, sentences: string[], requests: number, headers: Record<string, string> = {}, model?: string): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < requests; i++) {
    const t0 = performance.now();
    const status = await post(url, body(sentences[i % sentences.length]!, model), headers);
    if (status !== 200) throw new Error(`request ${i} answered ${status}`);
    times.push(performance.now() - t0);
  }
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

export interface LoadResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  answered: number;
  failed: number;
}

export async function loadRun(url: string, sentences: string[], connections: number, seconds: number, headers: Record<string, string> = {}, model?: string): Promise<LoadResult> {
  let next = 0;
  const result = await autocannon({
    url: `${url}/v1/classify`,
    connections,
    duration: seconds,
    requests: [{
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      setupRequest: (request) => ({ ...request, body: body(sentences[next++ % sentences.length]!, model) }),
    }],
  });
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    answered: result['2xx'],
    failed: result.errors + result.timeouts + result.non2xx,
  };
}
