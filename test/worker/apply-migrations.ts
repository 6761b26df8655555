import { applyD1Migrations, env } from 'cloudflare:test';

const bindings = env as unknown as { DB: unknown; TEST_MIGRATIONS: unknown };
await applyD1Migrations(bindings.DB as never, bindings.TEST_MIGRATIONS as never);
