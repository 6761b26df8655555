/**
 * POST /v1/classify over one keep-alive connection per server (node:http: fetch adds ~0.5 ms a request here, see
 * bench/classify/http-load.ts), timed from the request's start to its body's last byte.
 */
import { Agent, request } from 'node:http';

export interface Timed {
  ms: number;
  /** The server's own tokenize + inference time (its Server-Timing header): the model's share of `ms`. */
  modelMs: number;
  body: string;
}

/** Sums the durations of a Server-Timing header ("tokenize;dur=0.1, inference;dur=2.3"). */
function serverTimingMs(header: string | string[] | undefined): number {
  const text = Array.isArray(header) ? header.join(',') : header ?? '';
  const durations = [...text.matchAll(/dur=([\d.]+)/g)].map((m) => Number(m[1]));
  return durations.length === 0 ? Number.NaN : durations.reduce((a, b) => a + b, 0);
}

export type Classify = (payload: object) => Promise<Timed>;

export function classifyClient(url: string): Classify {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return (payload) => new Promise((resolve, reject) => {
    const body = JSON.stringify(payload);
    const started = performance.now();
    const req = request(`${url}/v1/classify`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const ms = performance.now() - started;
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) reject(new Error(`${url} answered ${res.statusCode}: ${text.slice(0, 300)}`));
        else resolve({ ms, modelMs: serverTimingMs(res.headers['server-timing']), body: text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
