/**
 * Requests Node's HTTP parser rejects before the app sees them (a malformed request line, headers too large, a
 * request that took too long to arrive) are answered in the API's JSON error shape, as every other error is,
 * instead of Node's bare `400 Bad Request`. The connection is closed after the answer: the parser's state is lost.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorBody } from '../http/errors.js';

const statusFor = (code: string | undefined) => {
  if (code === 'HPE_HEADER_OVERFLOW') return { status: 431, message: 'the request headers are too large', code: 'headers_too_large' };
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, message: 'the request took too long to arrive', code: 'request_timeout' };
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return { status: 413, message: 'the chunk extensions are too large', code: 'payload_too_large' };
  return { status: 400, message: 'the request is not valid HTTP/1.1', code: 'malformed_request' };
};

/** A whole HTTP/1.1 answer in the error shape, for a socket the app never gets to see. */
function rawAnswer(status: number, message: string, code: string): string {
  const body = errorBody(message, 'invalid_request_error', code);
  return [`HTTP/1.1 ${status} ${STATUS_CODES[status]}`, 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`,
    `x-request-id: ${randomUUID()}`, 'Connection: close', '', body].join('\r\n');
}

/** The same answer on a response object Node made before the app could. */
function answer(response: ServerResponse, status: number, message: string, code: string): void {
  response.writeHead(status, { 'content-type': 'application/json', 'x-request-id': randomUUID(), connection: 'close' }).end(errorBody(message, 'invalid_request_error', code));
}

export function answerClientErrorsAsJson(server: Server): void {
  // Node's own check answers a missing Host with a bare 400: withHostRequired answers it in the error shape instead.
  (server as Server & { requireHostHeader: boolean }).requireHostHeader = false;
  server.on('checkExpectation', (_request: IncomingMessage, response: ServerResponse) => {
    answer(response, 417, 'only "Expect: 100-continue" is supported', 'expectation_failed');
  });
  // CONNECT (a proxy tunnel) is not something this server does: say so instead of dropping the socket.
  server.on('connect', (_request: IncomingMessage, socket: Duplex) => {
    socket.end(rawAnswer(405, 'CONNECT is not allowed: this is an API server, not a proxy', 'method_not_allowed'));
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // What Node's default handler does too: nothing can be written to a broken socket or after a response began.
    const message = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || message?.headersSent) {
      socket.destroy();
      return;
    }
    const answer = statusFor(error.code);
    socket.end(rawAnswer(answer.status, answer.message, answer.code));
  });
}

/** HTTP/1.1 requires a Host header (RFC 9112): a request without one gets 400 in the error shape, not the app. */
export function withHostRequired(listener: (request: IncomingMessage, response: ServerResponse) => unknown) {
  return (request: IncomingMessage, response: ServerResponse) => {
    if (request.headers.host === undefined && request.httpVersionMajor === 1 && request.httpVersionMinor >= 1) {
      answer(response, 400, 'an HTTP/1.1 request needs a Host header', 'malformed_request');
      return;
    }
    return listener(request, response);
  };
}
