/**
 * What Lambda's Node.js runtime gives a RESPONSE_STREAM function, written here from how the runtime interface
 * client defines it: the `awslambda` global with `streamifyResponse` (marks the handler as streaming; the runtime
 * then calls it with `(event, responseStream, context)`) and `HttpResponseStream.from` (the Function URL's
 * `application/vnd.awslambda.http-integration-response`: a JSON prelude with status and headers, eight NUL bytes,
 * then the body). The response stream is a Writable that must get its content type before its first byte; the
 * invocation is over once the handler has returned and the stream has ended, and Lambda may freeze the
 * environment from then on: `atEnd` runs at that moment, as the last thing before the response completes.
 */
import { Writable } from 'node:stream';

const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HIGH_WATER_MARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
const INTEGRATION_RESPONSE = 'application/vnd.awslambda.http-integration-response';
const DELIMITER_LENGTH = 8;

type StreamingHandler = (event: unknown, stream: ResponseStream, context: unknown) => Promise<unknown>;

class ResponseStream extends Writable {
  contentType = 'application/octet-stream';
  /** Each write as it reached the runtime (after the prelude, if any). */
  readonly chunks: Buffer[] = [];
  private started = false;
  _onBeforeFirstWrite?: (write: (chunk: string | Uint8Array) => void) => void;

  constructor(private readonly atEnd: () => Promise<void>, highWaterMark?: number) {
    super({ highWaterMark });
  }

  setContentType(type: string): void {
    if (this.started) throw new Error('the content type cannot change after the first write');
    this.contentType = type;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (!this.started) {
      this.started = true;
      this._onBeforeFirstWrite?.((raw) => void this.chunks.push(Buffer.from(raw)));
    }
    this.chunks.push(Buffer.from(chunk));
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.atEnd().then(() => callback(), callback);
  }
}

const awslambda = {
  streamifyResponse(handler: StreamingHandler, options?: { highWaterMark?: number }) {
    Object.assign(handler, { [STREAMING]: 'response' });
    if (options?.highWaterMark !== undefined) Object.assign(handler, { [HIGH_WATER_MARK]: options.highWaterMark });
    return handler;
  },
  HttpResponseStream: {
    from(stream: ResponseStream, prelude: Record<string, unknown>): ResponseStream {
      stream.setContentType(INTEGRATION_RESPONSE);
      const metadata = JSON.stringify(prelude); // NUL bytes are not allowed in it
      stream._onBeforeFirstWrite = (write) => {
        write(metadata);
        write(new Uint8Array(DELIMITER_LENGTH));
      };
      return stream;
    },
  },
};

/** Installs the runtime's `awslambda` global (before the entry that uses it is imported). */
export function installLambdaStreamingRuntime(): void {
  Object.assign(globalThis, { awslambda });
}

export interface StreamedInvocation {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  /** How many writes the body reached the runtime in (more than one: it was streamed, not buffered). */
  bodyWrites: number;
  /** What `atEnd` returned, read when the response stream ended. */
  atEnd: unknown;
}

/** Invokes a streaming handler as the runtime does, and decodes the Function URL's integration response. */
export async function invokeStreaming(handler: unknown, event: unknown, context: unknown, atEnd: () => Promise<unknown> = async () => undefined): Promise<StreamedInvocation> {
  const fn = handler as StreamingHandler & { [STREAMING]?: string; [HIGH_WATER_MARK]?: number };
  if (fn[STREAMING] !== 'response') throw new Error('the handler was not made with awslambda.streamifyResponse');
  let seenAtEnd: unknown;
  const stream = new ResponseStream(async () => {
    seenAtEnd = await atEnd();
  }, fn[HIGH_WATER_MARK]);
  const finished = new Promise<void>((resolve, reject) => {
    stream.once('finish', resolve);
    stream.once('error', reject);
  });
  await fn(event, stream, context);
  await finished;
  if (stream.contentType !== INTEGRATION_RESPONSE) throw new Error(`a Function URL needs ${INTEGRATION_RESPONSE}, got ${stream.contentType}`);
  const raw = Buffer.concat(stream.chunks);
  const split = raw.indexOf(Buffer.alloc(DELIMITER_LENGTH));
  if (split < 0) throw new Error('no prelude delimiter in the response');
  const prelude = JSON.parse(raw.subarray(0, split).toString()) as { statusCode: number; headers?: Record<string, string> };
  const bodyWrites = stream.chunks.length - 2;
  return { statusCode: prelude.statusCode, headers: prelude.headers ?? {}, body: raw.subarray(split + DELIMITER_LENGTH).toString(), bodyWrites, atEnd: seenAtEnd };
}
