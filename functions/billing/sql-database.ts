/** The few SQL calls billing makes, so that SQLite (better-sqlite3) and Cloudflare D1 share one store. */
export interface SqlStatement {
  sql: string;
  params: unknown[];
}

export interface SqlDatabase {
  run(sql: string, params?: unknown[]): Promise<{ changes: number }>;
  all<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /** All statements in one transaction. */
  batch(statements: SqlStatement[]): Promise<void>;
}
