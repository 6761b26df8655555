/**
 * Reads POST /v1/files' multipart body (what the official client's files.create sends: a `file` part and a
 * `purpose` field). The body limit of the path (tuning-plugin.ts) stops an upload past the largest file plus its
 * multipart framing before it is read; the file itself is then held to the largest upload exactly.
 */
import type { Context } from 'hono';
import { ApiError, invalidRequest } from '../../http/errors.js';
import type { AppEnv } from '../../http/request-context.js';

/** Room for the multipart framing around the file: boundaries, part headers, the purpose field. */
export const MULTIPART_OVERHEAD_BYTES = 64 * 1024;
const MAX_FILENAME_CHARS = 255;

export const fileTooLarge = (maxBytes: number): ApiError =>
  new ApiError(413, `the file is over ${maxBytes} bytes, the largest upload this server takes`, 'invalid_request_error', 'file_too_large', 'file');

export interface Upload {
  filename: string;
  purpose: string;
  bytes: Uint8Array;
}

async function formOf(c: Context<AppEnv>): Promise<FormData> {
  const type = c.req.header('content-type') ?? '';
  if (!/^multipart\/form-data\b/i.test(type)) {
    throw new ApiError(415, `send the file as multipart/form-data with a "file" part and a "purpose" field (got "${type.slice(0, 60) || 'no content type'}")`,
      'invalid_request_error', 'unsupported_media_type');
  }
  try {
    return await c.req.formData();
  } catch (error) {
    // The body limit's 413, or a client gone mid-upload (body-limit.ts answers it as 499), reach here as causes.
    const cause = error instanceof ApiError ? error : (error as { cause?: unknown } | null)?.cause;
    if (cause instanceof ApiError) throw cause;
    throw invalidRequest('the body is not valid multipart/form-data', null, 'invalid_multipart');
  }
}

export async function readUpload(c: Context<AppEnv>, maxUploadBytes: number): Promise<Upload> {
  const form = await formOf(c);
  const file = form.get('file');
  if (file === null) throw invalidRequest('"file" is missing: send the training file as the multipart part "file"', 'file');
  if (typeof file === 'string') throw invalidRequest('"file" must be a file part (with a filename), not a text field', 'file');
  const purpose = form.get('purpose');
  if (typeof purpose !== 'string') throw invalidRequest('"purpose" is missing: send "fine-tune"', 'purpose');
  if (purpose !== 'fine-tune') throw invalidRequest(`"purpose" must be "fine-tune" (got "${purpose.slice(0, 40)}"): files here train classifiers`, 'purpose');
  if (file.size > maxUploadBytes) throw fileTooLarge(maxUploadBytes);
  if (file.size === 0) throw invalidRequest('the file is empty; each line is {"text": "...", "label": "..."}', 'file', 'invalid_training_file');
  if (file.name.length > MAX_FILENAME_CHARS) throw invalidRequest(`the filename has ${file.name.length} characters; at most ${MAX_FILENAME_CHARS}`, 'file');
  return { filename: file.name || 'upload.jsonl', purpose, bytes: new Uint8Array(await file.arrayBuffer()) };
}
