/**
 * The refusal every engine behind a task interface gives when it has more work than it can start in time: the
 * routes answer it with 503 and its Retry-After, whichever engine (a local queue, a remote service) refused.
 */
export class QueueFullError extends Error {
  override name = 'QueueFullError';
  constructor(readonly retryAfterSeconds: number, message = 'the model is overloaded: its request queue is full') {
    super(message);
  }
}
