/** SqlDatabase on an SQLite file with better-sqlite3, migrations from migrations/*.sql applied in order. */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { SqlDatabase, SqlStatement } from '../billing/sql-database.js';

export async function openSqlite(path: string, migrationsDir: string): Promise<SqlDatabase & { close(): void }> {
  // Loaded on use: bundles without SQLite (the Lambda router) still load this module.
  const { default: Sqlite } = await import('better-sqlite3');
  const db = new Sqlite(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const applied = new Set(db.prepare('SELECT name FROM schema_migrations').all().map((r) => (r as { name: string }).name));
  for (const name of (await readdir(migrationsDir)).filter((f) => f.endsWith('.sql')).sort()) {
    if (applied.has(name)) continue;
    const sql = await readFile(join(migrationsDir, name), 'utf8');
    db.transaction(() => {
      db.exec(sql);
      db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)').run(name, Date.now());
    })();
  }
  const statements = new Map<string, Database.Statement>();
  const prepare = (sql: string) => {
    let statement = statements.get(sql);
    if (!statement) statements.set(sql, (statement = db.prepare(sql)));
    return statement;
  };
  const runBatch = db.transaction((batch: SqlStatement[]) => {
    for (const s of batch) prepare(s.sql).run(...s.params);
  });
  return {
    run: async (sql, params = []) => ({ changes: prepare(sql).run(...params).changes }),
    all: async <T>(sql: string, params: unknown[] = []) => prepare(sql).all(...params) as T[],
    batch: async (batch) => runBatch(batch),
    close: () => db.close(),
  };
}
