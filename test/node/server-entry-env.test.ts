/**
 * npm start's entry (server.ts) under tsx: OpenTelemetry's SDK is imported only when OTEL_TRACES_EXPORTER asks for
 * an exporter, and that path still refuses an unknown exporter and still exports spans; V8_OPTIMIZE_FOR_SIZE takes
 * on or off only. Real processes on 127.0.0.1.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../paths.js';

const quiet = { EMBEDDED_GENERATION: 'off', BILLING: 'off', FINE_TUNING: 'off', PORT: '0' };

async function refusal(env: Record<string, string>) {
  const run = promisify(execFile)(process.execPath, ['--import', 'tsx', 'functions/node/server.ts'], { cwd: repoRoot, env: { ...process.env, ...quiet, ...env }, timeout: 60_000 });
  return run.then(() => null, (error: { code: number; stderr: string }) => error);
}

describe('the Node entry', () => {
  it.each([
    [{ OTEL_TRACES_EXPORTER: 'zipkin' }, /error: OTEL_TRACES_EXPORTER must be one of none, otlp, console, not "zipkin"/],
    [{ V8_OPTIMIZE_FOR_SIZE: 'maybe' }, /error: V8_OPTIMIZE_FOR_SIZE must be "on" or "off" \(default "off"\), not "maybe"/],
  ])('refuses %o with a one-line error', async (env, message) => {
    const failure = await refusal(env);
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(message);
  }, 60_000);

  it('exports the spans of a classification with OTEL_TRACES_EXPORTER=console, and flushes them at SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'functions/node/server.ts'], { cwd: repoRoot, env: { ...process.env, ...quiet, OTEL_TRACES_EXPORTER: 'console', V8_OPTIMIZE_FOR_SIZE: 'on' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      for (const started = Date.now(); !/listening on (http:\/\/\S+)/.test(out); await new Promise((r) => setTimeout(r, 20))) {
        if (child.exitCode !== null || Date.now() - started > 60_000) throw new Error(`did not start: ${out}`);
      }
      const url = /listening on (http:\/\/\S+)/.exec(out)![1]!;
      const res = await fetch(`${url}/v1/classify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":"a fine film"}' });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(out).toMatch(/traceId: '[0-9a-f]{32}'/);
  }, 90_000);
});
