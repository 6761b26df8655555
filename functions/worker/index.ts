/**
 * Cloudflare Worker entry: the same app, with the registry's edge models bundled into the Worker and run by
 * onnxruntime-web inside workerd. Models load on the first request an isolate receives and stay for the next ones.
 */
import type { Hono } from 'hono';
import { createApp } from '../app/create-app.js';
import { errorJson } from '../app/errors.js';
import { loadEdgeEngines } from '../engine/loading/load-edge-engines.js';
import { Registry } from '../engine/registry/registry.js';
import { modelFolders, registryBytes } from './bundled-models.js';
import { workerdSessionFactory } from './ort-workerd.js';

let app: Promise<Hono> | null = null;

async function buildApp(): Promise<Hono> {
  const registry = Registry.parse(JSON.parse(new TextDecoder().decode(registryBytes)));
  const engines = await loadEdgeEngines(registry, {
    readerFor: (model) => async (path) => {
      const bytes = modelFolders[model.folder!]?.[path];
      return bytes ? new Uint8Array(bytes) : null;
    },
    createSession: workerdSessionFactory(),
  });
  return createApp({ registry, engines, isReady: () => true });
}

export default {
  async fetch(request: Request): Promise<Response> {
    app ??= buildApp().catch((error: unknown) => {
      app = null; // the next request tries again
      throw error;
    });
    try {
      return (await app).fetch(request);
    } catch (error) {
      const message = `the models failed to load: ${error instanceof Error ? error.message : String(error)}`;
      console.error(message);
      return errorJson(503, message, 'server_error', 'models_unavailable');
    }
  },
};
