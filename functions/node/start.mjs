/**
 * `npm start`: runs the Node server as built JavaScript (dist/node/server.js), so that no TypeScript is compiled at
 * start. The build (esbuild, about 0.2 s) runs when dist/node/ is missing or stale: its build-info.json lists every
 * source file the bundle was made from with the SHA-256 of its content, and one that differs (or a changed build
 * recipe) rebuilds. Content, not size and mtime: a copy that keeps mtimes (cp -p, rsync -t, tar) but changes a file
 * rebuilds, and a file touched without a change (a git checkout back and forth) does not. The check reads and hashes
 * the ~170 sources (0.8 MB) and the lock file: 40-54 ms on a busy machine, a tenth of the cold start. So each input
 * also has a stamp (inode, size, mtime and ctime in nanoseconds, with the hash it had): an input whose stamp is
 * unchanged is not read. Any write changes ctime, which no copy or touch can set back, so a changed file is still
 * hashed; a file touched without a change is hashed once, found equal, and its stamp renewed.
 *
 * dist/node/ sits two folders below the repository root, as functions/node/ does, so the paths the entries compute
 * from import.meta.url (shared-paths.ts, billing-setup.ts, local-app.ts, thread-trainer.ts) find models/,
 * migrations/, .data/ and ../shared exactly as under tsx. Native and WebAssembly packages (onnxruntime-node and -web,
 * better-sqlite3, which find their binaries beside their own files) and the AWS SDK (imported only for DynamoDB
 * billing) stay in node_modules; the rest (hono, zod, onnx-proto, ...) is bundled, which about halves the time to
 * import it. Bundled CommonJS gets a real `require` (protobufjs looks optional modules up with it).
 *
 * Memory: `npm start` sets V8_OPTIMIZE_FOR_SIZE=on unless it is set, so the server switches V8 to
 * --optimize-for-size once it listens (server.ts), for a lower RSS under load (target: peak ≤ 200 MB after c=64;
 * bench/cold-start/rss.ts compares it with V8_OPTIMIZE_FOR_SIZE=off, which keeps V8's defaults).
 *
 * `node functions/node/start.mjs --build` only builds (and says whether it had to).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
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
  /** How build-info.json records each input (a build recorded otherwise is rebuilt once). */
  inputs: 'sha256',
};
const recipeKey = JSON.stringify(RECIPE);

/** The SHA-256 of a file's bytes, hex; throws (ENOENT) for a file that is gone. */
export const contentHash = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** A file's stamp with the hash it had (see the top); throws (ENOENT) for a file that is gone. */
const stampOf = (path, hash) => {
  const s = statSync(path, { bigint: true });
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}:${hash}`;
};

/** Why dist/node/ must be (re)built, or null when it matches the sources (`root`: where the inputs' paths start). */
export function staleReason(dir = outDir, root = repoRoot) {
  let info;
  try {
    info = JSON.parse(readFileSync(join(dir, INFO), 'utf8'));
  } catch {
    return `${relative(root, dir)} has no build`;
  }
  if (info.recipe !== recipeKey) return 'the build recipe changed';
  const stamps = info.stamps ?? {};
  let renewed = false;
  for (const [file, hash] of Object.entries(info.inputs)) {
    try {
      if (stamps[file] === stampOf(join(root, file), hash)) continue;
      if (contentHash(join(root, file)) !== hash) return `${file} changed`;
      stamps[file] = stampOf(join(root, file), hash);
      renewed = true;
    } catch {
      return `${file} is gone`;
    }
  }
  if (renewed) writeInfo(dir, { ...info, stamps });
  return null;
}

/** Writes build-info.json whole or not at all (a read-only dist/ keeps the old one: the next check hashes again). */
function writeInfo(dir, info) {
  const temp = join(dir, `${INFO}.${process.pid}.tmp`);
  try {
    writeFileSync(temp, JSON.stringify(info));
    renameSync(temp, join(dir, INFO));
  } catch {
    rmSync(temp, { force: true });
  }
}

/** Whether a process with this id runs (EPERM: it does, as another user's). */
function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error?.code === 'EPERM';
  }
}

/**
 * Removes what killed builds left beside `dir` (dist/node.building-<pid>, dist/node.old-<pid>): the folders of
 * processes that no longer run. A running build's folder is left to it. Returns the names removed.
 */
export function removeStaleBuilds(dir = outDir) {
  const prefix = `${basename(dir)}.`;
  let names;
  try {
    names = readdirSync(dirname(dir));
  } catch {
    return [];
  }
  const removed = [];
  for (const name of names) {
    const pid = name.startsWith(prefix) ? Number(/^(?:building|old)-(\d+)$/.exec(name.slice(prefix.length))?.[1]) : NaN;
    if (!pid || pid === process.pid || isAlive(pid)) continue;
    rmSync(join(dirname(dir), name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
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
  removeStaleBuilds();
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
  const stamps = {};
  const record = (file) => {
    // Stamped before hashing: a file written meanwhile has a newer ctime than its stamp says, and is hashed next time.
    const stamp = statSync(join(repoRoot, file), { bigint: true });
    inputs[file] = contentHash(join(repoRoot, file));
    stamps[file] = `${stamp.dev}:${stamp.ino}:${stamp.size}:${stamp.mtimeNs}:${stamp.ctimeNs}:${inputs[file]}`;
  };
  // The lock file stands for the bundled packages (hono, zod, ...): a changed lock rebuilds; tsconfig.json steers esbuild.
  for (const file of ['package-lock.json', 'tsconfig.json']) record(file);
  for (const file of Object.keys(result.metafile.inputs)) {
    if (file.includes('node_modules/')) continue; // installed packages change with npm ci, which the lock file pins
    record(file);
  }
  writeFileSync(join(temp, INFO), JSON.stringify({ recipe: recipeKey, esbuild: esbuild.version, inputs, stamps }));
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

/**
 * Builds when stale; returns why it built, or null when the build was fresh. Every start clears what killed builds
 * left (a readdir of dist/): a build killed while esbuild, its own process, was still writing can leave its folder
 * after the next build has looked.
 */
export async function ensureBuilt() {
  removeStaleBuilds();
  const reason = staleReason();
  if (reason) await build();
  return reason;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const reason = await ensureBuilt();
    if (process.argv.includes('--build')) console.log(reason ? `built dist/node/ (${reason})` : 'dist/node/ is up to date');
    else {
      process.env.V8_OPTIMIZE_FOR_SIZE ??= 'on';
      await import(pathToFileURL(join(outDir, 'server.js')).href);
    }
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
