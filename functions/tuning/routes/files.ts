/**
 * The Files API in OpenAI's shape: POST /v1/files (multipart; a training file is validated whole before anything is
 * stored), GET /v1/files, GET /v1/files/{file_id}, GET /v1/files/{file_id}/content, DELETE /v1/files/{file_id}.
 * Files belong to the caller's tenant: another tenant's id answers exactly as an unknown one. These routes run no
 * model, so they leave the meter empty: their usage records cost nothing.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { ApiError } from '../../http/errors.js';
import { badRequestResponse, ErrorBody, jsonResponse } from '../../http/openapi-responses.js';
import { declareRoute, routeGroup, type RouteGroup } from '../../http/route-declaration.js';
import { newFileId } from '../ids.js';
import { parseTrainingFileInSlices, TrainingFileError, trainingFileErrorToApi, type TrainingFileLimits } from '../training-file.js';
import type { TuningStore } from '../tuning-store.js';
import type { StoredFile } from '../tuning-types.js';
import { readUpload } from './file-upload.js';
import { screenTrainingFile } from '../../privacy/training-file-screen.js';
import { fileObject, filePage } from './openai-objects.js';
import { FileDeleted, FileId, FileList, FileListQuery, FileObject, FileUpload, MAX_FILES_PAGE } from './schemas.js';
import { callerTenant } from './tenant.js';

export interface FileLimits {
  /** The largest file one upload may hold (413 file_too_large past it). */
  maxUploadBytes: number;
  /** What a tenant's stored files may add up to (402 storage_quota_exceeded past it). */
  storageQuotaBytes: number;
  trainingFile?: Partial<TrainingFileLimits>;
}

export interface FileRouteDeps {
  store: Pick<TuningStore, 'insertFile' | 'getFile' | 'fileBytes' | 'listFiles' | 'deleteFile' | 'storedBytes'>;
  limits: FileLimits;
  /** Unix seconds. */
  now: () => number;
}

export const fileNotFound = (id: string): ApiError =>
  new ApiError(404, `file "${id.slice(0, 100)}" does not exist`, 'invalid_request_error', 'file_not_found', 'file_id');

const notFoundResponse = jsonResponse(ErrorBody, 'No such file of yours.');
const fileParams = z.object({ file_id: FileId });

const upload = (limits: FileLimits) => createRoute({
  method: 'post', path: '/v1/files', summary: 'Upload a training file (OpenAI Files API)',
  description: `JSON lines of {"text": "...", "label": "..."}, validated whole before it is stored (a bad line is a 400 naming it). At most ${limits.maxUploadBytes} bytes per file and ${limits.storageQuotaBytes} bytes stored per tenant.`,
  request: { body: { required: true, content: { 'multipart/form-data': { schema: FileUpload } } } },
  responses: {
    200: jsonResponse(FileObject, 'The stored file.'),
    400: badRequestResponse,
    402: jsonResponse(ErrorBody, "The file does not fit in the tenant's storage quota (storage_quota_exceeded)."),
    413: jsonResponse(ErrorBody, 'The file is over the largest upload (file_too_large).'),
    415: jsonResponse(ErrorBody, 'The body is not multipart/form-data.'),
  },
});

const list = createRoute({
  method: 'get', path: '/v1/files', summary: 'Your files', request: { query: FileListQuery },
  responses: { 200: jsonResponse(FileList, `A page of files (at most ${MAX_FILES_PAGE}).`), 400: badRequestResponse },
});

const retrieve = createRoute({
  method: 'get', path: '/v1/files/{file_id}', summary: 'One file', request: { params: fileParams },
  responses: { 200: jsonResponse(FileObject, 'The file.'), 404: notFoundResponse },
});

const content = createRoute({
  method: 'get', path: '/v1/files/{file_id}/content', summary: "A file's bytes", request: { params: fileParams },
  responses: {
    200: {
      description: 'The bytes as uploaded (application/jsonl), or a job\'s result (application/json).',
      content: { 'application/jsonl': { schema: z.string() }, 'application/json': { schema: z.unknown() } },
    },
    404: notFoundResponse,
  },
});

const remove = createRoute({
  method: 'delete', path: '/v1/files/{file_id}', summary: 'Delete a file and its bytes', request: { params: fileParams },
  responses: { 200: jsonResponse(FileDeleted, 'Deleted.'), 404: notFoundResponse },
});

const quotaExceeded = (size: number, stored: number, quota: number): ApiError =>
  new ApiError(402, `this file (${size} bytes) does not fit: your files hold ${stored} of ${quota} bytes; delete some (DELETE /v1/files/{file_id}) to make room`,
    'invalid_request_error', 'storage_quota_exceeded', 'file');

/**
 * Content-Disposition for a stored filename: an ASCII fallback (quotes and backslashes dropped) and, for a name
 * that is not plain ASCII, RFC 6266's filename* with the UTF-8 name percent-encoded, which clients prefer.
 */
function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  if (ascii === name) return `attachment; filename="${ascii}"`;
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

export function fileRoutes({ store, limits, now }: FileRouteDeps): RouteGroup {
  const group = routeGroup();

  declareRoute(group, upload(limits), async (c) => {
    const { filename, bytes: uploaded } = await readUpload(c, limits.maxUploadBytes);
    let parsed;
    try {
      parsed = await parseTrainingFileInSlices(uploaded, limits.trainingFile);
    } catch (error) {
      throw error instanceof TrainingFileError ? trainingFileErrorToApi(error) : error;
    }
    // The privacy policy (privacy-plugin.ts): personal data masked in the rows' texts, or the upload refused.
    const privacy = c.get('privacy');
    const bytes = privacy ? screenTrainingFile(uploaded, privacy) : uploaded;
    await c.get('admit')({ tokens: 0, costMicroUsd: 0 });
    const tenantId = callerTenant(c);
    const file: StoredFile = {
      id: newFileId(), tenantId, filename, purpose: 'fine-tune', bytes: bytes.length, createdAt: now(),
      rows: parsed.rows.length, labels: parsed.labels,
    };
    if ((await store.insertFile(file, bytes, limits.storageQuotaBytes)) === 'over_quota') {
      throw quotaExceeded(bytes.length, await store.storedBytes(tenantId), limits.storageQuotaBytes);
    }
    return c.json(fileObject(file), 200);
  });

  declareRoute(group, list, async (c) => {
    const query = c.req.valid('query');
    const limit = query.limit ?? MAX_FILES_PAGE;
    const rows = await store.listFiles(callerTenant(c), { after: query.after, limit: limit + 1, purpose: query.purpose, order: query.order ?? 'desc' });
    return c.json(filePage(rows, limit), 200);
  });

  declareRoute(group, retrieve, async (c) => {
    const { file_id: id } = c.req.valid('param');
    const file = await store.getFile(callerTenant(c), id);
    if (!file) throw fileNotFound(id);
    return c.json(fileObject(file), 200);
  });

  declareRoute(group, content, async (c) => {
    const { file_id: id } = c.req.valid('param');
    const tenantId = callerTenant(c);
    const [file, bytes] = await Promise.all([store.getFile(tenantId, id), store.fileBytes(tenantId, id)]);
    if (!file || !bytes) throw fileNotFound(id);
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      'content-type': file.purpose === 'fine-tune-results' ? 'application/json' : 'application/jsonl',
      'content-disposition': attachment(file.filename),
    });
  });

  declareRoute(group, remove, async (c) => {
    const { file_id: id } = c.req.valid('param');
    if (!(await store.deleteFile(callerTenant(c), id))) throw fileNotFound(id);
    return c.json({ id, object: 'file' as const, deleted: true as const }, 200);
  });

  return group;
}
