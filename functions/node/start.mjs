/**
 * `npm start`: runs the Node server as built JavaScript (dist/node/server.js), so that no TypeScript is compiled at
 * start. The build (esbuild, about 0.2 s) runs when dist/node/ is missing or stale: its build-info.json lists every
 * source file the bundle was made from with its size and mtime, and one that differs (or a changed build recipe)
 * rebuilds. A fresh build costs a stat per source file (a few ms).
 *
 * dist/node/ sits two folders below the repository root, as functions/node/ does, so the paths the entries compute
 * from import.meta.url (shared-paths.ts, billing-setup.ts, local-app.ts, thread-trainer.ts) find models/,
 * migrations/, .data/ and ../shared exactly as under tsx. Native and WebAssembly packages (onnxruntime-node and -web,
 * better-sqlite3, which find their binaries beside their own files) and the AWS SDK (imported only for DynamoDB
 * billing) stay in node_modules; the rest (hono, zod, onnx-proto, ...) is bundled, which about halves the time to
 * import it. Bundled CommonJS gets a real `require` (protobufjs looks optional modules up with it).
 *
 * `node functions/node/start.mjs --build` only builds (and says whether it had to).
 */
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const outDir = join(repoRoot, 'dist', 'node');
const INFO = 'build-info.json';

/** What the bundle is made of and how; a change here rebuilds. */
const RECIPE = {
  entryPoints: ['functions/node/server.ts', 'functions/node/training-thread.ts'],
  external: ['onnxruntime-node', 'onnxruntime-web', 'better-sqlite3', '@aws-sdk/*'],
  banner: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  format: 'esm',
  target: 'node20',
};
const recipeKey = JSON.stringify(RECIPE);

/** Why dist/node/ must be (re)built, or null when it matches the sources. */
export function staleReason(dir = outDir) {
  let info;
  try {
    info = JSON.parse(readFileSync(join(dir, INFO), 'utf8'));
  } catch {
    return `${relative(repoRoot, dir)} has no build`;
  }
  if (info.recipe !== recipeKey) return 'the build recipe changed';
  for (const [file, [size, mtimeMs]] of Object.entries(info.inputs)) {
    let now;
    try {
      now = statSync(join(repoRoot, file));
    } catch {
      return `${file} is gone`;
    }
    if (now.size !== size || now.mtimeMs !== mtimeMs) return `${file} changed`;
  }
  return null;
}

async function loadEsbuild() {
  try {
    return await import('esbuild');
  } catch (error) {
    throw new Error(`npm start builds dist/node/ with esbuild, which is not installed (${error instanceof Error ? error.message.split('\n')[0] : error}); run npm ci (with dev dependencies)`);
  }
}

/**
 * Builds into a fresh folder beside dist/node/ and then swaps it in (two renames), so that a server starting from
 * dist/node/, or a second start building at the same time, does not see half a build.
 */
export async function build() {
  const esbuild = await loadEsbuild();
  const temp = `${outDir}.building-${process.pid}`;
  rmSync(temp, { recursive: true, force: true });
  const result = await esbuild.build({
    absWorkingDir: repoRoot,
    entryPoints: RECIPE.entryPoints,
    external: RECIPE.external,
    banner: { js: RECIPE.banner },
    format: RECIPE.format,
    target: RECIPE.target,
    outdir: temp,
    bundle: true,
    splitting: true, // dynamic imports (the DynamoDB store) stay separate files, loaded on use
    platform: 'node',
    metafile: true,
    logLevel: 'warning',
  });
  const inputs = {};
  // The lock file stands for the bundled packages (hono, zod, ...): a changed lock rebuilds; tsconfig.json steers esbuild.
  for (const file of ['package-lock.json', 'tsconfig.json']) {
    const { size, mtimeMs } = statSync(join(repoRoot, file));
    inputs[file] = [size, mtimeMs];
  }
  for (const file of Object.keys(result.metafile.inputs)) {
    if (file.includes('node_modules/')) continue; // installed packages change with npm ci, which the lock file pins
    const { size, mtimeMs } = statSync(join(repoRoot, file));
    inputs[file] = [size, mtimeMs];
  }
  writeFileSync(join(temp, INFO), JSON.stringify({ recipe: recipeKey, esbuild: esbuild.version, inputs }));
  mkdirSync(dirname(outDir), { recursive: true });
  const old = `${outDir}.old-${process.pid}`;
  try {
    renameSync(outDir, old);
  } catch (error) {
    if (error?.code !== 'ENOENT') throw error;
  }
  renameSync(temp, outDir);
  rmSync(old, { recursive: true, force: true });
}

/** Builds when stale; returns why it built, or null when the build was fresh. */
export async function ensureBuilt() {
  const reason = staleReason();
  if (reason) await build();
  return reason;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const reason = await ensureBuilt();
    if (process.argv.includes('--build')) console.log(reason ? `built dist/node/ (${reason})` : 'dist/node/ is up to date');
    else await import(pathToFileURL(join(outDir, 'server.js')).href);
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
