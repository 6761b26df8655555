/**
 * Counting proxies around the bindings the Worker receives (D1, Durable Object namespaces, R2 buckets) and around a
 * Durable Object's storage: each billable operation is counted as the real binding answers it. D1's own figures are
 * used where it reports them (meta.rows_read / meta.rows_written on every result, as Cloudflare bills them).
 * The counts live in this module, one set per isolate: Miniflare runs the Worker and its objects in one isolate.
 */
import type { Env } from '../../../functions/worker/worker-env.js';

export const counts = {
  workerRequests: 0,
  d1: { queries: 0, rowsRead: 0, rowsWritten: 0, byStatement: {} as Record<string, { queries: number; rowsRead: number; rowsWritten: number }> },
  /** Requests to objects (stub calls and alarms), their wall time seen by the caller, and storage operations. */
  durableObjects: { requests: 0, wallMs: 0, storageRowsRead: 0, storageRowsWritten: 0 },
  /** Class A: put, list, multipart; class B: get, head (delete is free). */
  r2: { classA: 0, classB: 0 },
};

export function resetCounts(): void {
  counts.workerRequests = 0;
  Object.assign(counts.d1, { queries: 0, rowsRead: 0, rowsWritten: 0, byStatement: {} });
  Object.assign(counts.durableObjects, { requests: 0, wallMs: 0, storageRowsRead: 0, storageRowsWritten: 0 });
  Object.assign(counts.r2, { classA: 0, classB: 0 });
}

type Meta = { rows_read?: number; rows_written?: number };
type AnyFn = (...args: unknown[]) => unknown;

/** A statement's first words and table (`INSERT INTO usage`, `SELECT … FROM api_keys`), for the breakdown. */
export function statementName(sql: string): string {
  const words = sql.trim().replace(/\s+/g, ' ');
  const verb = words.split(' ')[0]!.toUpperCase();
  const table = /\b(?:INTO|FROM|UPDATE)\s+([A-Za-z_]+)/i.exec(words)?.[1] ?? '?';
  return `${verb} ${table}`;
}

function noteD1(result: unknown, sql: string): void {
  const meta = (result as { meta?: Meta } | null)?.meta;
  const rowsRead = meta?.rows_read ?? 0;
  const rowsWritten = meta?.rows_written ?? 0;
  const name = statementName(sql);
  const entry = (counts.d1.byStatement[name] ??= { queries: 0, rowsRead: 0, rowsWritten: 0 });
  for (const total of [counts.d1, entry]) {
    total.queries += 1;
    total.rowsRead += rowsRead;
    total.rowsWritten += rowsWritten;
  }
}

/** Wraps a method of `target` so that `after` sees each (awaited) result. */
function tap<T extends object>(target: T, wrap: Record<string, (call: AnyFn, args: unknown[]) => unknown>): T {
  return new Proxy(target, {
    get(object, name, receiver) {
      const value = Reflect.get(object, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const bound = (value as AnyFn).bind(object);
      const wrapper = typeof name === 'string' ? wrap[name] : undefined;
      return wrapper ? (...args: unknown[]) => wrapper(bound, args) : bound;
    },
  });
}

// D1: a prepared statement's run/all/first/raw answer one query; batch answers one result per statement.
const REAL = Symbol('the real D1 statement');
const SQL = Symbol('its SQL');
type Statement = object & { [REAL]?: object; [SQL]?: string };

function countingStatement(statement: object, sql: string): Statement {
  const counted = tap(statement, {
    bind: (call, args) => countingStatement(call(...args) as object, sql),
    run: async (call, args) => { const r = await call(...args); noteD1(r, sql); return r; },
    all: async (call, args) => { const r = await call(...args); noteD1(r, sql); return r; },
    // first() and raw() answer no meta: the query is counted, its rows are not known (the billing store uses neither).
    first: async (call, args) => { noteD1(null, sql); return call(...args); },
    raw: async (call, args) => { noteD1(null, sql); return call(...args); },
  }) as Statement;
  Object.defineProperty(counted, REAL, { value: statement });
  Object.defineProperty(counted, SQL, { value: sql });
  return counted;
}

function countingD1<T extends object>(db: T): T {
  return tap(db, {
    prepare: (call, args) => countingStatement(call(...args) as object, String(args[0])),
    batch: async (call, [statements]) => {
      // The real binding wants its own statement objects.
      const list = statements as Statement[];
      const results = (await call(list.map((s) => s[REAL] ?? s))) as unknown[];
      results.forEach((result, i) => noteD1(result, list[i]![SQL] ?? '?'));
      return results;
    },
  });
}

function countingStub<T extends object>(stub: T): T {
  return tap(stub, {
    fetch: async (call, args) => {
      counts.durableObjects.requests += 1;
      const t0 = Date.now(); // advances across I/O inside workerd: the object's wall time as the caller sees it
      const response = (await call(...args)) as Response;
      const body = await response.arrayBuffer();
      counts.durableObjects.wallMs += Date.now() - t0;
      return new Response(body, response);
    },
  });
}

function countingNamespace<T extends object>(namespace: T): T {
  return tap(namespace, { get: (call, args) => countingStub(call(...args) as object) });
}

function countingBucket<T extends object>(bucket: T): T {
  const classB = async (call: AnyFn, args: unknown[]) => { counts.r2.classB += 1; return call(...args); };
  const classA = async (call: AnyFn, args: unknown[]) => { counts.r2.classA += 1; return call(...args); };
  return tap(bucket, { get: classB, head: classB, put: classA, list: classA, createMultipartUpload: classA });
}

const wrapped = new WeakMap<object, object>();
function once<T extends object>(value: T, wrap: (v: T) => T): T {
  let found = wrapped.get(value) as T | undefined;
  if (!found) wrapped.set(value, (found = wrap(value)));
  return found;
}

/**
 * The env with its D1, Durable Object and R2 bindings counted (the same wrapped object for the same binding), made
 * once per env object: built per request it cost about 1 ms of the isolate's CPU (profile-cpu.ts), which the cost
 * model then billed as the Worker's.
 */
const countedEnvs = new WeakMap<object, Env>();
export function countingEnv(env: Env): Env {
  let counted = countedEnvs.get(env);
  if (!counted) countedEnvs.set(env, (counted = countingEnvOnce(env)));
  return counted;
}

function countingEnvOnce(env: Env): Env {
  const bindings = env as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = { ...bindings };
  for (const [name, value] of Object.entries(bindings)) {
    if (!value || typeof value !== 'object') continue;
    if ('prepare' in value && 'batch' in value) out[name] = once(value, countingD1);
    else if ('idFromName' in value && 'get' in value) out[name] = once(value, countingNamespace);
    else if ('put' in value && 'get' in value && 'head' in value) out[name] = once(value, countingBucket);
  }
  return out as unknown as Env;
}

/** A Durable Object's state with its storage counted: KV calls as rows (SQLite-backed objects bill them as rows), SQL by its cursor. */
export function countingState<T>(state: T): T {
  if (!state || typeof state !== 'object' || !('storage' in state)) return state;
  const rows = (keys: unknown) => (Array.isArray(keys) ? keys.length : 1);
  const entries = (value: unknown) => (value && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value).length : 1);
  const storage = tap((state as { storage: object }).storage, {
    get: async (call, args) => { counts.durableObjects.storageRowsRead += rows(args[0]); return call(...args); },
    put: async (call, args) => { counts.durableObjects.storageRowsWritten += args.length > 1 && typeof args[0] === 'string' ? 1 : entries(args[0]); return call(...args); },
    delete: async (call, args) => { counts.durableObjects.storageRowsWritten += rows(args[0]); return call(...args); },
    list: async (call, args) => { const found = (await call(...args)) as Map<unknown, unknown>; counts.durableObjects.storageRowsRead += Math.max(1, found.size); return found; },
  });
  return new Proxy(state as object, {
    get(object, name) {
      if (name === 'storage') return storage;
      const value = Reflect.get(object, name) as unknown;
      return typeof value === 'function' ? (value as AnyFn).bind(object) : value; // native methods need their own this
    },
  }) as T;
}

/** For an object's alarm handler: an alarm is billed as a request. */
export function countAlarm(): void {
  counts.durableObjects.requests += 1;
}
