/**
 * The Worker isolate's own CPU, apart from the rest of workerd (Miniflare's D1 simulator and SQLite, its entry
 * proxy: other isolates), read with V8's sampling profiler through `wrangler dev --inspector-port` (Chrome DevTools
 * protocol). workerd's clocks stand still while JavaScript runs (a Spectre mitigation), so performance.now() inside
 * the Worker cannot measure this. V8 samples the isolate only while it runs (measured: 33 samples over 7 s holding
 * two requests), so a sample's time since the one before also spans the idle gap before it: each sample counts at
 * most one sampling period (the profile's median gap between samples), which bounds the error at one period per
 * gap. '(program)' samples (workerd's C++ APIs working for the isolate: Response, streams, bindings) are CPU the
 * isolate is billed for and count; '(idle)' ones do not. Miniflare runs the Worker and its Durable Objects in this
 * one isolate: the objects' JavaScript is in the figure too. Needs a global WebSocket (Node 20: --experimental-websocket).
 */

interface Socket { onopen: (() => void) | null; onerror: ((e: unknown) => void) | null; onclose: (() => void) | null; onmessage: ((e: { data: string }) => void) | null; send(d: string): void; close(): void }
const WS = (globalThis as unknown as { WebSocket?: new (url: string, init: { headers: Record<string, string> }) => Socket }).WebSocket;

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }
export interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

/** Milliseconds of self time: in all, of JavaScript alone ('(program)' left out), by file and by function. */
export interface IsolateCpu {
  busyMs: number;
  jsMs: number;
  /** The sampling period found (ms). */
  periodMs: number;
  byFile: Map<string, number>;
  byFunction: Map<string, number>;
}

export function isolateCpuOf(profile: Profile): IsolateCpu {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const gaps = profile.timeDeltas.map((us) => us / 1000).sort((a, b) => a - b);
  const periodMs = gaps.length ? gaps[Math.floor(gaps.length / 2)]! : 0;
  const self = new Map<number, number>();
  profile.samples.forEach((nodeId, i) => self.set(nodeId, (self.get(nodeId) ?? 0) + Math.min(periodMs, (profile.timeDeltas[i] ?? 0) / 1000)));
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let busyMs = 0;
  let jsMs = 0;
  for (const [nodeId, ms] of self) {
    const { functionName, url, lineNumber } = byNode.get(nodeId)!.callFrame;
    if (functionName === '(idle)') continue;
    busyMs += ms;
    if (functionName === '(program)') continue;
    jsMs += ms;
    const file = url.replace(/^.*\/(node_modules\/[^/]+(?:\/[^/]+)?|functions\/[^?]+|bench\/[^?]+)/, '$1') || '(native)';
    const name = `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
    byFile.set(file, (byFile.get(file) ?? 0) + ms);
  }
  return { busyMs, jsMs, periodMs, byFile, byFunction };
}

export interface IsolateProfiler {
  start(): Promise<void>;
  stop(): Promise<IsolateCpu>;
  close(): void;
}

/** Connects to the isolate's inspector; `intervalUs`: the sampling interval. */
export async function isolateProfiler(inspectorPort: number, intervalUs = 100): Promise<IsolateProfiler> {
  if (!WS) throw new Error('the isolate profiler needs a global WebSocket: run node with --experimental-websocket');
  const ws = new WS(`ws://127.0.0.1:${inspectorPort}/ws`, { headers: { origin: `http://127.0.0.1:${inspectorPort}` } });
  let id = 0;
  let closed = false;
  const pending = new Map<number, { ok: (r: unknown) => void; fail: (e: Error) => void }>();
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data) as { id?: number; result?: unknown; error?: { message: string } };
    if (m.id === undefined) return;
    const waiter = pending.get(m.id);
    pending.delete(m.id);
    if (m.error) waiter?.fail(new Error(m.error.message));
    else waiter?.ok(m.result);
  };
  await new Promise<void>((ok, fail) => { ws.onopen = () => ok(); ws.onerror = () => fail(new Error(`no inspector on port ${inspectorPort}`)); });
  ws.onclose = () => {
    closed = true;
    for (const waiter of pending.values()) waiter.fail(new Error('the inspector closed (the Worker reloaded?)'));
    pending.clear();
  };
  const send = (method: string, params: object = {}) => new Promise<unknown>((ok, fail) => {
    if (closed) return fail(new Error('the inspector closed (the Worker reloaded?)'));
    const n = ++id;
    pending.set(n, { ok, fail });
    ws.send(JSON.stringify({ id: n, method, params }));
  });
  await send('Profiler.enable');
  await send('Profiler.setSamplingInterval', { interval: intervalUs });
  return {
    start: async () => { await send('Profiler.start'); },
    stop: async () => isolateCpuOf(((await send('Profiler.stop')) as { profile: Profile }).profile),
    close: () => ws.close(),
  };
}
