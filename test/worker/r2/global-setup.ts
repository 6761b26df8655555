// Node side of vitest.workers-r2.config.mts: a real generation server (stories260K) for the Worker to stream from.
import type { TestProject } from 'vitest/node';
import { startGenerationServer } from '../../../functions/node/start-generation-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    generationUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startGenerationServer({ port: 0 });
  project.provide('generationUrl', server.url);
  return () => server.close();
}
