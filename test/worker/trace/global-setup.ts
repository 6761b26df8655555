// Node side of vitest.workers-trace.config.mts: a recording upstream (test/observability/recording-upstream.ts) for the
// Worker's generation, and a second server on 127.0.0.1 that answers GET with the headers that upstream received,
// for the tests inside workerd to read.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestProject } from 'vitest/node';
import { recordingUpstream } from '../../observability/recording-upstream.js';

declare module 'vitest' {
  export interface ProvidedContext {
    upstreamUrl: string;
    receivedUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const upstream = await recordingUpstream();
  const reader = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(upstream.received)));
  await new Promise<void>((resolve) => reader.listen(0, '127.0.0.1', resolve));
  project.provide('upstreamUrl', upstream.url);
  project.provide('receivedUrl', `http://127.0.0.1:${(reader.address() as AddressInfo).port}`);
  return async () => {
    await new Promise<void>((resolve) => reader.close(() => resolve()));
    await upstream.close();
  };
}
