/**
 * Fine-tuning as a plugin of the app: the Files and fine-tuning jobs routes (OpenAI's shapes), the larger body
 * limit of uploads, and nothing else: keys, rate limits and usage records come from billing's middleware on /v1/*
 * like any route's. The entries (node/, worker/) build the store and the job service and hand this to createApp;
 * app/ never imports it.
 */
import type { AppPlugin } from '../http/app-plugin.js';
import { fileRoutes, type FileLimits, type FileRouteDeps } from './routes/files.js';
import { fileTooLarge, MULTIPART_OVERHEAD_BYTES } from './routes/file-upload.js';
import { jobRoutes, type FineTuningJobs } from './routes/jobs.js';
import type { EventStreamOptions } from './routes/event-stream.js';
import { exportRoutes, type ExportRouteDeps } from './routes/export.js';

export const DEFAULT_FILE_LIMITS: FileLimits = { maxUploadBytes: 32 * 1024 * 1024, storageQuotaBytes: 256 * 1024 * 1024 };

export interface TuningPluginOptions {
  service: FineTuningJobs;
  store: FileRouteDeps['store'];
  limits?: Partial<FileLimits>;
  /** Heartbeat and store-poll intervals of event streams (defaults: 15 s, 2 s). */
  events?: EventStreamOptions;
  /** Unix seconds (default: the clock). */
  now?: () => number;
  /** GET /v1/models/{id}/export (routes/export.ts); without it the deployment offers no export. */
  exports?: ExportRouteDeps;
  /** Aborted when the server shuts down: open job event streams end at once, so the drain is not held (Node). */
  shutdown?: AbortSignal;
}

export function tuningPlugin({ service, store, limits: given = {}, events, now = () => Math.floor(Date.now() / 1000), exports, shutdown }: TuningPluginOptions): AppPlugin {
  const limits: FileLimits = { ...DEFAULT_FILE_LIMITS, ...given };
  return {
    routes: [fileRoutes({ store, limits, now }), jobRoutes({ service, events, shutdown }), ...(exports ? [exportRoutes(exports)] : [])],
    bodyLimits: [{ path: '/v1/files', bytes: limits.maxUploadBytes + MULTIPART_OVERHEAD_BYTES, tooLarge: () => fileTooLarge(limits.maxUploadBytes) }],
  };
}
