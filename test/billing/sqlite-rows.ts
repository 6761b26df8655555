import Database from 'better-sqlite3';

/** Rows of a query on a usage database file, read the way an operator would (read-only, a connection of its own). */
export function sqliteRows(path: string, sql: string, ...params: unknown[]): Record<string, any>[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as Record<string, any>[];
  } finally {
    db.close();
  }
}
