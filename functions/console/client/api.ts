/**
 * The console's one way to the API: the signed-in key (or the admin token, for /admin) in the Authorization
 * header, and every failure turned into an ApiProblem whose message a person can act on: the server's own error
 * message with its status, or what went wrong on the way (the server unreachable, an answer that is not JSON).
 */
import { session } from './session.js';

export class ApiProblem extends Error {
  constructor(message: string, readonly status: number | null, readonly code: string | null = null) {
    super(message);
  }
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  /** Sent with the admin token instead of the API key. */
  admin?: boolean;
  signal?: AbortSignal;
  /** A raw body (multipart), sent as it is. */
  form?: FormData;
}

function headersFor(options: CallOptions): Headers {
  const headers = new Headers();
  const secret = options.admin ? session.adminToken() : session.apiKey();
  if (secret) headers.set('authorization', `Bearer ${secret}`);
  if (options.body !== undefined) headers.set('content-type', 'application/json');
  return headers;
}

const hintFor = (status: number, admin: boolean): string => {
  if (status === 401) return admin ? ' Check the admin token on the Sign in page.' : ' Check the API key on the Sign in page.';
  if (status === 404 && admin) return '';
  if (status === 429) return ' Wait a moment and try again.';
  return '';
};

/** The answer of a request that did not succeed, as an ApiProblem. */
export async function problemOf(response: Response, admin = false): Promise<ApiProblem> {
  let message = `${response.status} ${response.statusText || 'error'}`;
  let code: string | null = null;
  try {
    const body = (await response.json()) as { error?: { message?: string; code?: string } };
    if (body.error?.message) message = `${response.status}: ${body.error.message}.`;
    code = body.error?.code ?? null;
  } catch {
    // not the error shape: the status says it
  }
  return new ApiProblem(`${message}${hintFor(response.status, admin)}`.replace(/\.\.$/, '.'), response.status, code);
}

/** fetch, with the signed-in secret; rejects with an ApiProblem where no answer came. */
export async function send(path: string, options: CallOptions = {}): Promise<Response> {
  try {
    return await fetch(path, {
      method: options.method ?? (options.body !== undefined || options.form ? 'POST' : 'GET'),
      headers: headersFor(options),
      body: options.form ?? (options.body !== undefined ? JSON.stringify(options.body) : undefined),
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw new ApiProblem('stopped', null, 'aborted');
    throw new ApiProblem('the server could not be reached: is it running? (network error)', null, 'network');
  }
}

/** A JSON call: the parsed answer, or an ApiProblem. */
export async function call<T>(path: string, options: CallOptions = {}): Promise<T> {
  const response = await send(path, options);
  if (!response.ok) throw await problemOf(response, options.admin);
  try {
    return (await response.json()) as T;
  } catch {
    throw new ApiProblem(`the server answered ${path} with something that is not JSON`, response.status);
  }
}

export const messageOf = (error: unknown): string => error instanceof Error ? error.message : String(error);
