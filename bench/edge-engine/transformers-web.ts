/**
 * transformers.js (@huggingface/transformers 4.x) on its own WASM backend in Node, as issue 21 item 3 describes:
 * in Node its main build runs onnxruntime-node (native), so this loads its browser build (dist/transformers.web.js),
 * which picks onnxruntime-web when `process.release.name` does not read "node" at import; the .wasm comes from the
 * onnxruntime-web folder it ships with (its own version, 1.31-dev for 4.3.1), and the model folder is served over a
 * local HTTP server (the web build has no file system; it probes local paths only over a remote host). One thread.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join, normalize } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface TransformersWeb {
  classify(text: string): Promise<{ label: string; score: number }[]>;
  /** transformers.js' version, and onnxruntime-web's under the pipeline. */
  version: string;
  ortVersion: string;
  /** The raw onnxruntime-web module it runs on (for a raw session.run on the same ORT build). */
  ort: typeof import('onnxruntime-web');
  close(): Promise<void>;
}

/** Serves `root` read-only on 127.0.0.1 (GET and HEAD; transformers.js probes with a range GET). */
async function serveFolder(root: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (path.includes('..')) return void res.writeHead(400).end();
    readFile(join(root, path)).then(
      (bytes) => res.writeHead(200, { 'content-length': bytes.length }).end(req.method === 'HEAD' ? undefined : bytes),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`, server };
}

export async function loadTransformersWeb(modelDir: string): Promise<TransformersWeb> {
  const require = createRequire(import.meta.url);
  const packageDir = dirname(dirname(require.resolve('@huggingface/transformers'))); // its main lies in dist/
  const webBuild = pathToFileURL(join(packageDir, 'dist', 'transformers.web.js')).href;
  // The onnxruntime-web that the web build imports (its own dependency, nested under it).
  // Its ESM entry, by the package's exports map ("./webgpu" -> import -> default): the very module the build imports.
  const ortDir = dirname(dirname(createRequire(join(packageDir, 'dist', 'transformers.web.js')).resolve('onnxruntime-web/webgpu')));
  const ortPackage = JSON.parse(await readFile(join(ortDir, 'package.json'), 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  const ortEntry = pathToFileURL(join(ortDir, ortPackage.exports['./webgpu']!.import.default)).href;
  const ortDist = join(ortDir, 'dist');

  const release = process.release;
  Object.defineProperty(process, 'release', { value: { ...release, name: 'edge-maas-bench' }, configurable: true });
  let tjs: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- the web build ships no types for this path
  try {
    tjs = await import(webBuild);
  } finally {
    Object.defineProperty(process, 'release', { value: release, configurable: true });
  }
  const ort = (await import(ortEntry)) as typeof import('onnxruntime-web');

  const { url, server } = await serveFolder(dirname(modelDir));
  const { env, pipeline } = tjs;
  env.allowLocalModels = false;
  env.allowRemoteModels = true;
  env.remoteHost = url;
  env.remotePathTemplate = '{model}/';
  env.useBrowserCache = false;
  env.useWasmCache = false;
  env.backends.onnx.wasm.wasmPaths = pathToFileURL(`${ortDist}/`).href;
  env.backends.onnx.wasm.numThreads = 1;

  const classifier = await pipeline('text-classification', modelDir.split('/').pop(), { dtype: 'q8', device: 'wasm' });
  return {
    classify: (text) => classifier(text),
    version: String(env.version ?? 'unknown'),
    ortVersion: String(env.backends.onnx.versions?.web ?? 'unknown'),
    ort,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
