/** SqlDatabase over a Cloudflare D1 binding: the billing store's SQL, unchanged, at the edge. */
import type { SqlDatabase } from '../billing/sql-database.js';

export interface D1PreparedStatement {
  bind(...values: unknown[]): D1PreparedStatement;
  run(): Promise<{ meta: { changes?: number } }>;
  all<T>(): Promise<{ results: T[] }>;
}

export interface D1Database {
  prepare(sql: string): D1PreparedStatement;
  batch(statements: D1PreparedStatement[]): Promise<unknown[]>;
}

export function d1Database(db: D1Database): SqlDatabase {
  return {
    run: async (sql, params = []) => ({ changes: (await db.prepare(sql).bind(...params).run()).meta.changes ?? 0 }),
    all: async <T>(sql: string, params: unknown[] = []) => (await db.prepare(sql).bind(...params).all<T>()).results,
    // D1 runs a batch as one transaction.
    batch: async (statements) => void (await db.batch(statements.map((s) => db.prepare(s.sql).bind(...s.params)))),
  };
}
