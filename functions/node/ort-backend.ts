/**
 * Which onnxruntime the Node server runs its edge models on: onnxruntime-node (native kernels) unless told otherwise,
 * onnxruntime-web (WASM, what the edge runs) with ORT_BACKEND=wasm. onnxruntime-node's CPU binary ships inside its npm
 * package (`npm ci` installs it; .npmrc's onnxruntime-node-install=skip only skips its CUDA download), but a platform
 * without a prebuilt binary, or a Node that refuses native addons, cannot load it: the default then serves on WASM
 * and says why; ORT_BACKEND=node asked for explicitly fails with the reason instead.
 */
import type { EdgeEngine } from '../app/schemas.js';
import type { OrtBackend } from './load-classifier.js';

/** What GET /v1/models names as each backend's engine. */
export const ENGINE_OF: Record<OrtBackend, EdgeEngine> = { wasm: 'onnxruntime-web', node: 'onnxruntime-node' };

export const DEFAULT_ORT_BACKEND: OrtBackend = 'node';

/** Why onnxruntime-node's native binding does not load in this process, or null when it does. */
export async function nativeLoadError(): Promise<string | null> {
  try {
    await import('onnxruntime-node');
    return null;
  } catch (error) {
    return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
  }
}

/**
 * The backend to serve with: the one asked for; none asked for, onnxruntime-node, or WASM (with a warning) when it
 * cannot load. Asking for "node" where it cannot load throws, naming the reason and the way out.
 */
export async function resolveOrtBackend(requested: OrtBackend | undefined, warn: (message: string) => void = console.warn): Promise<OrtBackend> {
  if (requested === 'wasm') return 'wasm';
  const error = await nativeLoadError();
  if (error === null) return 'node';
  if (requested === 'node') {
    throw new Error(`ORT_BACKEND=node: onnxruntime-node cannot load here (${error}); reinstall it with npm ci, or set ORT_BACKEND=wasm to serve on onnxruntime-web`);
  }
  warn(`onnxruntime-node cannot load here (${error}): serving on onnxruntime-web (WASM) instead; npm ci reinstalls it, ORT_BACKEND=wasm chooses WASM without this warning`);
  return 'wasm';
}
