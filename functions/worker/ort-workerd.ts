/**
 * onnxruntime-web inside workerd. workerd refuses to compile WebAssembly from bytes, and onnxruntime-web 1.30 has
 * no option that takes a compiled module, so: the .wasm is imported statically (wrangler compiles it at deploy),
 * ORT is handed a placeholder `wasmBinary` so that it does not fetch, and `WebAssembly.instantiate` answers that
 * placeholder with an instance of the imported module. Single-threaded: Workers have no threads.
 */
import * as ort from 'onnxruntime-web/wasm';
import ortWasmModule from 'onnxruntime-web/ort-wasm-simd-threaded.wasm';
import type { SessionFactory } from '../engine/loading/classifier-from-files.js';

// Not a valid wasm file, so nothing else is ever mistaken for it. ORT copies it before instantiating: compare bytes.
const placeholder = new TextEncoder().encode('edge-maas: use the imported onnxruntime-web module');
let installed = false;
/** The WebAssembly memory of the onnxruntime-web instance, once instantiated (imported or exported by the module). */
let ortMemory: WebAssembly.Memory | null = null;

/** Bytes of onnxruntime-web's WebAssembly memory now (it grows, never shrinks); null before the first session. */
export function ortWasmMemoryBytes(): number | null {
  return ortMemory ? ortMemory.buffer.byteLength : null;
}

function memoryOf(instance: WebAssembly.Instance, imports?: WebAssembly.Imports): WebAssembly.Memory | null {
  const candidates = [...Object.values(instance.exports), ...Object.values(imports ?? {}).flatMap((module) => Object.values(module))];
  return (candidates.find((value) => value instanceof WebAssembly.Memory) as WebAssembly.Memory | undefined) ?? null;
}

function isPlaceholder(source: unknown): boolean {
  const bytes = source instanceof ArrayBuffer ? new Uint8Array(source) : ArrayBuffer.isView(source) ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength) : null;
  return bytes !== null && bytes.length === placeholder.length && bytes.every((b, i) => b === placeholder[i]);
}

function install(): void {
  const instantiate = WebAssembly.instantiate.bind(WebAssembly) as (source: unknown, imports?: WebAssembly.Imports) => Promise<unknown>;
  const patched = (source: unknown, imports?: WebAssembly.Imports): Promise<unknown> => {
    if (!isPlaceholder(source)) return instantiate(source, imports);
    return instantiate(ortWasmModule, imports).then((instance) => {
      ortMemory = memoryOf(instance as WebAssembly.Instance, imports);
      return { instance, module: ortWasmModule };
    });
  };
  WebAssembly.instantiate = patched as typeof WebAssembly.instantiate;
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmBinary = placeholder;
  installed = true;
}

export function workerdSessionFactory(): SessionFactory {
  if (!installed) install();
  return async (bytes, options = {}) => {
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: options.optimization ?? 'all' });
    return { session, createTensor: (type, data, dims) => new ort.Tensor(type, data, dims) };
  };
}
