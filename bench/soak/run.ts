/**
 * bench/soak: SOAK_MINUTES (default 10) of mixed traffic at a steady SOAK_RPS (default 10) against `npm start`'s
 * server in keys mode, run as a child process: classification single and batched, streamed and non-streamed
 * generation, bad requests, hang-ups mid-stream and mid-upload. Reports the count per status (zero 5xx expected),
 * the server's RSS (sampled every second: start, peak, end, and per minute), and whether the usage rows in its
 * SQLite file, read after SIGTERM flushed them, equal the metered requests. Writes its section of bench/RESULTS.md.
 * Usage: npm run bench:soak (SOAK_MINUTES=2 to shorten)
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { devSentences } from '../classify/sentences.js';
import { writeResultsSection } from '../common/results.js';
import { percentile } from '../common/stats.js';
import { startSoakServer } from './server.js';
import { KINDS, kindPicker, seeded, type Context, type Outcome } from './traffic.js';
import { soakTable, type SoakResult } from './table.js';

const minutes = Number(process.env.SOAK_MINUTES ?? 10);
const rps = Number(process.env.SOAK_RPS ?? 10);
const MAX_IN_FLIGHT = 64;

async function makeKey(url: string, admin: string): Promise<string> {
  const call = async (path: string, body: unknown) => {
    const res = await fetch(`${url}/admin${path}`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status !== 201) throw new Error(`POST /admin${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { key: string };
  };
  await call('/tenants', { id: 'soak', stripe_customer_id: 'cus_soak' });
  // Limits far above the soak's rate: this measures the server, not the key's limits.
  return (await call('/keys', { tenant: 'soak', rpm: 1_000_000, tpm: 1_000_000_000 })).key;
}

function usageRows(path: string): Record<string, number> {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db.prepare('SELECT status, COUNT(*) AS n FROM usage GROUP BY status').all() as { status: number; n: number }[];
    return Object.fromEntries(rows.map((r) => [String(r.status), r.n]));
  } finally {
    db.close();
  }
}

async function main(): Promise<void> {
  if (!(minutes > 0) || !(rps > 0)) throw new Error('SOAK_MINUTES and SOAK_RPS must be positive numbers');
  const dir = await mkdtemp(join(tmpdir(), 'edge-maas-soak-'));
  const dbPath = join(dir, 'usage.sqlite');
  const admin = randomBytes(16).toString('hex');
  const t0 = performance.now();
  const phase = (what: string) => console.log(`soak: ${what} at ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const server = await startSoakServer({ USAGE_DB: dbPath, ADMIN_TOKEN: admin });
  phase(`server listening on ${server.url}`);
  try {
    const next = seeded(17);
    const ctx: Context = { url: server.url, key: await makeKey(server.url, admin), sentences: await devSentences(872), next };
    const pickKind = kindPicker(next);
    const result: SoakResult = {
      minutes, rps, cores: cpus().length, node: process.version, started: new Date().toISOString(),
      byKind: new Map(), statuses: {}, fiveXx: [], meteredSent: 0, meteredAnswered: 0, uploadHangUps: 0, skipped: 0,
      rss: [], rows: {}, exit: '', errorLines: server.errorLines,
    };
    const sampler = setInterval(() => void server.rssMb().then((mb) => result.rss.push({ at: performance.now(), mb }), () => {}), 1_000);
    phase(`traffic for ${minutes} min at ${rps}/s`);
    const start = performance.now();
    result.rss.push({ at: start, mb: await server.rssMb() });
    const total = Math.round(minutes * 60 * rps);
    const inFlight = new Map<Promise<void>, string>();
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / rps;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (inFlight.size >= MAX_IN_FLIGHT) {
        result.skipped++; // the server is behind: say so rather than pile on
        continue;
      }
      const kind = pickKind();
      const begun = performance.now();
      const work = kind.run(ctx).catch((error: Error): Outcome => ({ status: 'failed', body: `${error.name}: ${error.message}` })).then((outcome) => {
        const stats = result.byKind.get(kind.name) ?? { statuses: {}, ms: [] };
        stats.statuses[String(outcome.status)] = (stats.statuses[String(outcome.status)] ?? 0) + 1;
        stats.ms.push(performance.now() - begun);
        result.byKind.set(kind.name, stats);
        result.statuses[String(outcome.status)] = (result.statuses[String(outcome.status)] ?? 0) + 1;
        if (outcome.status === 'failed' || (typeof outcome.status === 'number' && outcome.status >= 500)) {
          if (result.fiveXx.length < 10) result.fiveXx.push(`${kind.name}: ${outcome.status} ${outcome.body ?? ''}`);
        }
        if (kind.metered) {
          result.meteredSent++;
          if (outcome.status === 'hung up') result.uploadHangUps++;
          else result.meteredAnswered++;
        }
      });
      inFlight.set(work, kind.name);
      void work.finally(() => inFlight.delete(work));
    }
    phase(`all sent; ${inFlight.size} in flight`);
    await Promise.race([Promise.all(inFlight.keys()), new Promise((r) => setTimeout(r, 90_000))]);
    if (inFlight.size > 0) {
      result.statuses.failed = (result.statuses.failed ?? 0) + inFlight.size;
      result.fiveXx.push(`still unanswered 90 s after the last request: ${[...inFlight.values()].join(', ')}`);
    }
    phase(`in flight: ${inFlight.size}`);
    await new Promise((r) => setTimeout(r, 5_000)); // idle: what the server keeps once the traffic is gone
    clearInterval(sampler);
    result.rss.push({ at: performance.now(), mb: await server.rssMb() });
    phase('stopping the server');
    result.exit = await server.stop(30_000);
    result.rows = usageRows(dbPath);
    const table = soakTable(result, KINDS.map((k) => k.name), percentile);
    console.log(table);
    await writeResultsSection('soak', 'Soak: `npm run bench:soak`', table);
  } finally {
    await server.stop(5_000).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
