/**
 * GET /v1/models/{id}/export: the caller's fine-tuned model as a zip of a transformers.js text-classification
 * folder (export/). Another tenant's model answers 404 exactly as a name nobody serves; a model whose job has not
 * succeeded yet answers 409 with the job's status.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { FolderReader } from '../../engine/loading/folder-files.js';
import { ApiError, errorResponse } from '../../http/errors.js';
import { ErrorBody, jsonResponse } from '../../http/openapi-responses.js';
import { declareRoute, routeGroup, type RouteGroup } from '../../http/route-declaration.js';
import type { ModelEntry, Registry } from '../../registry/registry.js';
import { ExportCache } from '../export/export-cache.js';
import { exportFolder } from '../export/export-folder.js';
import { archiveName, zipFolder } from '../export/zip.js';
import { isId } from '../ids.js';
import { decodeHead } from '../trainer/classifier-head.js';
import type { TuningStore } from '../tuning-store.js';
import { OPEN_TENANT } from '../tuning-types.js';

export interface ExportRouteDeps {
  store: Pick<TuningStore, 'getModel' | 'getJob'>;
  /** Resolves a head's base encoder (id@version). */
  registry: Registry;
  /** The files of a registry model's folder, sha256-checked (what the edge engines load from). */
  readerFor: (model: ModelEntry) => FolderReader;
  /** Built zips kept by model (default: one of 64 MiB for these routes); share it with what deletes models, to evict. */
  cache?: ExportCache;
}

const FineTunedModelId = z.string().min(1).openapi({
  param: { name: 'id', in: 'path' },
  description: 'The fine-tuned model, ft:<base>:<tenant>:<suffix>:<job id>',
  example: 'ft:electra-imdb-small:open:reviews:ftjob-0123456789abcdefghijklmn',
});

const exportModel = createRoute({
  method: 'get',
  path: '/v1/models/{id}/export',
  summary: 'Download a fine-tuned model as a transformers.js folder (zip)',
  request: { params: z.object({ id: FineTunedModelId }) },
  responses: {
    200: {
      description:
        'A zip of one folder: config.json (the model\'s id2label), the tokenizer, onnx/model_quantized.onnx (the int8 ' +
        'encoder with the pooling and the float32 head merged; output `logits`) and README.md. transformers.js\' ' +
        "pipeline('text-classification', folder, { quantized: true }) loads it.",
      content: { 'application/zip': { schema: z.string().openapi({ format: 'binary' }) } },
    },
    404: jsonResponse(ErrorBody, 'No fine-tuned model of that name for the caller (model_not_found).'),
    409: jsonResponse(ErrorBody, "The model's job has not succeeded (model_not_ready; the message gives the job's status)."),
  },
});

const notFound = (name: string) =>
  new ApiError(404, `fine-tuned model "${name.length > 100 ? `${name.slice(0, 100)}…` : name}" does not exist`, 'invalid_request_error', 'model_not_found', 'id');

/** The job id a tenant model's name ends with, when it has that shape. */
function jobIdOf(name: string): string | null {
  const last = name.slice(name.lastIndexOf(':') + 1);
  return name.startsWith('ft:') && isId('ftjob-', last) ? last : null;
}

export function exportRoutes({ store, registry, readerFor, cache = new ExportCache() }: ExportRouteDeps): RouteGroup {
  const group = routeGroup();
  declareRoute(group, exportModel, async (c) => {
    const { id } = c.req.valid('param');
    const tenantId = c.get('apiKey')?.tenantId ?? OPEN_TENANT;
    const jobId = jobIdOf(id);
    if (!jobId) return errorResponse(c, notFound(id));
    const record = await store.getModel(tenantId, id);
    const job = await store.getJob(tenantId, jobId);
    if (!record) {
      cache.evict(tenantId, id); // deleted elsewhere (another instance on the store): free what it held here
      if (!job || job.status === 'succeeded') return errorResponse(c, notFound(id));
      return errorResponse(c, new ApiError(409, `fine-tuned model "${id}" is not ready: its job ${jobId} is ${job.status}`, 'invalid_request_error', 'model_not_ready', 'id'));
    }
    const base = registry.resolve(record.base);
    if (!base?.onnx) throw new ApiError(500, `the base encoder ${record.base} of "${id}" is no longer served`, 'server_error', 'base_model_missing');
    // No model runs: admission applies the key's rate limit at no cost.
    await c.get('admit')({ tokens: 0, costMicroUsd: 0 });
    const name = archiveName(record.name);
    const onnxFile = base.onnx;
    const zip = await cache.zipOf(record, async () => {
      const files = await exportFolder({
        name: record.name,
        jobId: record.jobId,
        head: decodeHead(record.head),
        result: job?.result ?? null,
        base: { ref: record.base, read: readerFor(base), onnxFile },
      });
      return zipFolder(files, { root: name, modified: new Date(record.createdAt * 1000) });
    });
    return c.body(zip as Uint8Array<ArrayBuffer>, 200, {
      'content-type': 'application/zip',
      'content-disposition': `attachment; filename="${name}.zip"`,
      'content-length': String(zip.byteLength),
    });
  });
  return group;
}
