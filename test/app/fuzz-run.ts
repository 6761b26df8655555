/** Runs fuzz cases one at a time against a server, probing /healthz between them, and collects what broke a promise. */
import type { FuzzCase } from './fuzz-cases.js';
import { send, sendRaw, violations, type Outcome, type Target } from './fuzz-client.js';

export interface Finding {
  problems: string[];
  request: string;
  answer: string;
}

export interface FuzzReport {
  sent: number;
  statuses: Record<string, number>;
  findings: Finding[];
  healthzMs: number[];
  healthzFailures: string[];
}

const ANSWER_LIMIT_MS = 20_000;

export const preview = (bytes: Uint8Array | undefined, limit = 160): string => {
  if (!bytes || bytes.length === 0) return '(none)';
  const head = Buffer.from(bytes.subarray(0, limit));
  const asText = head.toString('utf8');
  const shown = asText.includes('\ufffd') ? `hex ${head.toString('hex')}` : JSON.stringify(asText);
  return `${shown}${bytes.length > limit ? ` … (${bytes.length} bytes)` : ''}`;
};

const describeCase = (c: FuzzCase) =>
  `${c.method} ${c.path.slice(0, 160)}${c.path.length > 160 ? '…' : ''} [${c.name}] headers ${JSON.stringify(c.headers.map(([n, v]) => [n, v.slice(0, 80)]))}`
  + ` body ${preview(c.body)}${c.chunks ? ` chunked in ${c.chunks}` : ''}${c.hangUp ? ` hang-up ${c.hangUp}` : ''}`;

const describeOutcome = (o: Outcome) =>
  'hungUp' in o ? 'hung up' : 'failed' in o ? o.failed : `${o.status} ${preview(o.body, 300)}`;

const statusKey = (o: Outcome) => ('hungUp' in o ? 'hung up' : 'failed' in o ? 'no answer' : String(o.status));

async function probeHealthz(target: Target, report: FuzzReport): Promise<void> {
  const started = performance.now();
  const outcome = await send(target, { name: 'healthz', method: 'GET', path: '/healthz', headers: [] }, 5_000);
  report.healthzMs.push(performance.now() - started);
  if (!('status' in outcome) || outcome.status !== 200) report.healthzFailures.push(describeOutcome(outcome));
}

function note(report: FuzzReport, method: string, path: string, request: string, outcome: Outcome): void {
  report.sent++;
  report.statuses[statusKey(outcome)] = (report.statuses[statusKey(outcome)] ?? 0) + 1;
  const problems = violations(method, path, outcome);
  if (problems.length > 0) report.findings.push({ problems, request, answer: describeOutcome(outcome) });
}

export const emptyReport = (): FuzzReport => ({ sent: 0, statuses: {}, findings: [], healthzMs: [], healthzFailures: [] });

export async function runCases(target: Target, cases: Iterable<FuzzCase>, deadline: number, report: FuzzReport): Promise<void> {
  for (const fuzz of cases) {
    if (performance.now() > deadline) break;
    note(report, fuzz.method, fuzz.path, describeCase(fuzz), await send(target, fuzz, ANSWER_LIMIT_MS));
    await probeHealthz(target, report);
  }
}

/** Bytes Node's HTTP parser refuses (or nearly): a few, since each costs a connection the server must close. */
export const RAW_CASES: [string, string | Buffer][] = [
  ['garbage request line', 'GARBAGE\r\n\r\n'],
  ['no HTTP version', 'GET /healthz\r\n\r\n'],
  ['NUL in the path', 'GET /heal\u0000thz HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['header without a colon', 'GET /healthz HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n'],
  ['headers over 16 KiB', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`],
  ['Content-Length and Transfer-Encoding', 'POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ['two Content-Lengths', 'POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}'],
  ['Content-Length not a number', 'POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}'],
  ['bad chunk size', 'POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n'],
  ['HTTP/1.0 without Host', 'GET /healthz HTTP/1.0\r\n\r\n'],
  ['absolute-form target', 'GET http://evil.example/v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
  ['another scheme', 'GET ftp://evil.example/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
  ['HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
];

export async function runRawCases(target: Target, report: FuzzReport): Promise<void> {
  for (const [name, bytes] of RAW_CASES) {
    // The path only selects which answers may be 503: none of these.
    note(report, 'RAW', '/raw', `raw ${name}: ${preview(Buffer.from(bytes))}`, await sendRaw(target.host, target.port, bytes, 3_000));
    await probeHealthz(target, report);
  }
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
