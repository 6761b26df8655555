/**
 * npm run models:route parses numbers strictly and says what is wrong: "" / " " / 0x10 / 1e1 are no shadow
 * percent (Number() read them as 0, 0, 16 and 10), a version given twice is "named twice", and show or clear on a
 * database file that does not exist refuses without creating it. The real CLI (tsx) on a real SQLite file.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDb } from '../billing/helpers.js';
import { repoRoot } from '../paths.js';

const BILSTM = 'sst2-glove-bilstm@2';
const BERT = 'sst2-bert@3';

let db: Awaited<ReturnType<typeof tempDb>>;
beforeAll(async () => {
  db = await tempDb();
});
afterAll(async () => db?.remove());

async function cli(usageDb: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)('npx', ['tsx', 'functions/node/models-route-cli.ts', ...args], { cwd: repoRoot, env: { ...process.env, USAGE_DB: usageDb } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('npm run models:route', () => {
  it('refuses a shadow percent that is not a plain decimal number, and stores nothing', async () => {
    for (const percent of ['', ' ', '0x10', '1e1', '5%', 'five']) {
      const refused = await cli(db.path, 'set', 'sentiment', '--weight', `${BILSTM}=90`, '--weight', `${BERT}=10`, '--shadow', BERT, '--shadow-percent', percent);
      expect([refused.code, refused.stderr], percent).toEqual([1, expect.stringContaining('--shadow-percent')]);
    }
    expect(JSON.parse((await cli(db.path, 'show', 'sentiment')).stdout).source).toBe('registry');
    const set = await cli(db.path, 'set', 'sentiment', '--weight', `${BILSTM}=90`, '--weight', `${BERT}=10`, '--shadow', BERT, '--shadow-percent', '2.5');
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout).shadow).toEqual({ model: BERT, percent: 2.5 });
    const outOfRange = await cli(db.path, 'set', 'sentiment', `--weight=${BILSTM}=100`, '--shadow', BERT, '--shadow-percent=-1');
    expect([outOfRange.code, outOfRange.stderr]).toEqual([1, expect.stringContaining('shadow.percent')]);
    expect(JSON.parse((await cli(db.path, 'show', 'sentiment')).stdout).shadow).toEqual({ model: BERT, percent: 2.5 });
  }, 60_000);

  it('says a version is named twice, by the same name or two names of one version, and refuses weights not in decimal digits', async () => {
    const twice = await cli(db.path, 'set', 'sentiment', '--weight', `${BILSTM}=50`, '--weight', `${BILSTM}=50`);
    expect([twice.code, twice.stderr]).toEqual([1, expect.stringContaining('twice')]);
    expect(twice.stderr).not.toContain('sum');
    const aliasTwice = await cli(db.path, 'set', 'sentiment', '--weight', `${BILSTM}=50`, '--weight', 'sentiment=50');
    expect([aliasTwice.code, aliasTwice.stderr]).toEqual([1, expect.stringContaining('named twice')]);
    const hex = await cli(db.path, 'set', 'sentiment', '--weight', `${BILSTM}=0x64`);
    expect([hex.code, hex.stderr]).toEqual([1, expect.stringContaining('decimal digits')]);
  }, 60_000);

  it('show and clear on a database that does not exist refuse and create no file', async () => {
    const missing = join(db.path, '..', 'never-made.sqlite');
    for (const args of [['show'], ['show', 'sentiment'], ['clear', 'sentiment']]) {
      const refused = await cli(missing, ...args);
      expect([refused.code, refused.stderr], args.join(' ')).toEqual([1, expect.stringContaining('no database at')]);
    }
    expect(existsSync(missing)).toBe(false);
  }, 60_000);
});
