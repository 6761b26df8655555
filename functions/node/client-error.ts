/**
 * Requests Node's HTTP parser rejects before the app sees them (a malformed request line, headers too large, a
 * request that took too long to arrive) are answered in the API's JSON error shape, as every other error is,
 * instead of Node's bare `400 Bad Request`. The connection is closed after the answer: the parser's state is lost.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';

const statusFor = (code: string | undefined) => {
  if (code === 'HPE_HEADER_OVERFLOW') return { status: 431, message: 'the request headers are too large', code: 'headers_too_large' };
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, message: 'the request took too long to arrive', code: 'request_timeout' };
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return { status: 413, message: 'the chunk extensions are too large', code: 'payload_too_large' };
  return { status: 400, message: 'the request is not valid HTTP/1.1', code: 'malformed_request' };
};

export function answerClientErrorsAsJson(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // What Node's default handler does too: nothing can be written to a broken socket or after a response began.
    const message = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || message?.headersSent) {
      socket.destroy();
      return;
    }
    const answer = statusFor(error.code);
    const body = JSON.stringify({ error: { message: answer.message, type: 'invalid_request_error', code: answer.code, param: null } });
    socket.end([
      `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}`,
      'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      `x-request-id: ${randomUUID()}`,
      'Connection: close',
      '',
      body,
    ].join('\r\n'));
  });
}
