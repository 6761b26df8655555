/**
 * Small source trees in a temporary folder, each with the violations the import-direction check must report on it
 * ("rule: from → to", as importViolations lists them). The layer target is restated here from issue 18 rather than
 * read from .dependency-cruiser.cjs, so that a rule loosened there fails this test.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface FixtureTree {
  dir: string;
  expected: string[];
  remove(): Promise<void>;
}

/** What each folder of functions/ may import besides itself. */
const target: Record<string, string> = {
  http: '',
  registry: 'http',
  engine: 'http registry',
  protocol: 'http engine',
  upstream: 'http registry engine protocol',
  billing: 'http registry',
  app: 'http registry engine protocol upstream',
  generation: 'http registry engine protocol',
  node: 'http registry engine protocol upstream billing app generation',
  worker: 'http registry engine protocol upstream billing app generation',
  lambda: 'http registry engine protocol upstream billing app generation node',
};

const tsconfig = JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } });

async function writeTree(files: Record<string, string>, expected: string[]): Promise<FixtureTree> {
  const dir = await mkdtemp(join(tmpdir(), 'import-direction-'));
  for (const [path, text] of Object.entries({ 'tsconfig.json': tsconfig, ...files })) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return { dir, expected, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Every folder imports every other one; the check must report exactly the pairs the target leaves out. */
export function layerMatrixTree(): Promise<FixtureTree> {
  const folders = Object.keys(target);
  const files: Record<string, string> = {};
  const expected: string[] = [];
  for (const from of folders) {
    files[`functions/${from}/index.ts`] = `export const name = '${from}';\n`;
    for (const to of folders.filter((f) => f !== from)) {
      const file = `functions/${from}/uses-${to}.ts`;
      files[file] = `import { name } from '../${to}/index.js';\nexport const used = name;\n`;
      const allowed = (target[from] ?? '').split(' ');
      if (!allowed.includes(to)) {
        expected.push(`${from}-imports-outside-its-layers: ${file} → functions/${to}/index.ts`);
      }
    }
  }
  return writeTree(files, expected);
}

const exportOne = 'export const one = 1;\n';

/** One file per rule besides the layer table, next to imports of the same kinds that are allowed. */
export function specialCaseTree(): Promise<FixtureTree> {
  return writeTree(
    {
      'node_modules/better-sqlite3/package.json': JSON.stringify({ name: 'better-sqlite3', main: 'index.js' }),
      'node_modules/better-sqlite3/index.js': 'module.exports = {};\n',
      'functions/http/errors.ts': exportOne,
      'functions/engine/read-model.ts': "import { readFile } from 'node:fs/promises';\nexport const read = readFile;\n",
      'functions/engine/ort.wasm': '',
      'functions/engine/ort-module.ts': "import wasm from './ort.wasm';\nexport const module = wasm;\n",
      'functions/engine/quantize.ts': "import { one } from '../../models/tools/eval.js';\nexport const two = one + 1;\n",
      'functions/billing/sqlite.ts': "import Database from 'better-sqlite3';\nexport const open = Database;\n",
      'functions/billing/keys.ts': "import type { Route } from '../app/route.js';\nexport type KeyRoute = Route;\n",
      'functions/app/route.ts': 'export type Route = string;\n',
      'functions/app/env.ts': "import { env } from 'cloudflare:workers';\nexport const bindings = env;\n",
      'functions/app/sample.ts': "import { one } from '../../test/helper.js';\nexport const sample = one;\n",
      'functions/registry/catalog.ts': "import { price } from './prices.js';\nexport const catalog = () => price;\n",
      'functions/registry/prices.ts': "import { catalog } from './catalog.js';\nexport const price = () => catalog;\n",
      'functions/protocol/shapes.ts': "import { gone } from './gone.js';\nexport const shape = gone;\n",
      'functions/unplanned/jobs.ts': "import { one } from '../http/errors.js';\nexport const jobs = one;\n",
      'functions/node/start-server.ts': "import { readFile } from 'node:fs/promises';\nexport const start = readFile;\n",
      'functions/node/server.ts': "import { start } from './start-server.js';\nexport const server = start;\n",
      'functions/node/keys-cli.ts': exportOne,
      'functions/node/local-app.ts': "import Database from 'better-sqlite3';\nexport const app = Database;\n",
      'functions/lambda/handler.ts': [
        "import { app } from '../node/local-app.js';",
        "import { server } from '../node/server.js';",
        "import { start } from '../node/start-server.js';",
        "import { one } from '../node/keys-cli.js';",
        'export const handler = [app, server, start, one];\n',
      ].join('\n'),
      'functions/worker/index.ts': "import wasm from '../engine/ort.wasm';\nexport const module = wasm;\n",
      'infra/lib/stack.ts': "import { one } from '../../functions/http/errors.js';\nimport { two } from '../../bench/common.js';\nexport const stack = one + two;\n",
      'models/tools/eval.ts': "import { one } from '../../functions/http/errors.js';\nexport { one };\n",
      'test/helper.ts': exportOne,
      'bench/common.ts': 'export const two = 2;\n',
    },
    [
      'core-no-node-builtins: functions/engine/read-model.ts → fs/promises',
      'core-no-runtime-packages: functions/engine/ort-module.ts → functions/engine/ort.wasm',
      'core-no-runtime-packages: functions/billing/sqlite.ts → node_modules/better-sqlite3/index.js',
      'core-no-runtime-packages: functions/app/env.ts → cloudflare:workers',
      'no-unresolvable: functions/app/env.ts → cloudflare:workers',
      'production-not-tools-tests-benches: functions/engine/quantize.ts → models/tools/eval.ts',
      'production-not-tools-tests-benches: functions/app/sample.ts → test/helper.ts',
      'production-not-tools-tests-benches: infra/lib/stack.ts → bench/common.ts',
      'billing-imports-outside-its-layers: functions/billing/keys.ts → functions/app/route.ts',
      'no-circular: functions/registry/catalog.ts → functions/registry/prices.ts → functions/registry/catalog.ts',
      'no-unresolvable: functions/protocol/shapes.ts → ./gone.js',
      'functions-folder-without-a-layer: functions/unplanned/jobs.ts → functions/http/errors.ts',
      'lambda-not-the-node-entries: functions/lambda/handler.ts → functions/node/server.ts',
      'lambda-not-the-node-entries: functions/lambda/handler.ts → functions/node/start-server.ts',
      'lambda-not-the-node-entries: functions/lambda/handler.ts → functions/node/keys-cli.ts',
    ],
  );
}
