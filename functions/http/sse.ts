/**
 * Server-sent events framing, as OpenAI and vLLM stream: one `data: <text>\n\n` event per message, JSON or the
 * final `[DONE]`, and an error as an event in the error shape (the status line is long sent by then). Hono's
 * streamSSE needs a request context and sets headers of its own; the generation server and the router's
 * upstream stream write events into bodies they build themselves, so they frame with these.
 */
import { errorBody } from './errors.js';

const encoder = new TextEncoder();

/** One event whose data is `text` as it is (a JSON text, or `[DONE]`); `text` holds no newline. */
export const sseEvent = (text: string): Uint8Array => encoder.encode(`data: ${text}\n\n`);

export const sseJson = (value: unknown): Uint8Array => sseEvent(JSON.stringify(value));

/** The error shape ({ error: { message, type, code, param } }) as an event that ends a stream. */
export const sseError = (message: string, type: string, code: string): Uint8Array => sseEvent(errorBody(message, type, code));

export const SSE_DONE = '[DONE]';

/** Whether an answer says it is a server-sent event stream (its Content-Type), whatever its body. */
export const hasEventStreamType = (res: Response): boolean => /^text\/event-stream\b/i.test(res.headers.get('content-type') ?? '');
