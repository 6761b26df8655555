/**
 * The text-generation task's interface, the Vercel AI SDK's provider idea: one small interface, generate and
 * stream, with many backends behind it. Two implement it today: the local generator over the ONNX engine
 * (generation/local-generator.ts, what the generation server serves) and the router's client of
 * OpenAI-compatible GPU upstreams (upstream/upstream-client.ts, `generator(upstreams)`).
 *
 * Its level is the answer on the wire, not parsed text: the router passes an upstream's answer through as the
 * upstream sent it (vLLM's fields, ids and usage; its refusals and Retry-After; byte for byte, which idempotent
 * replays rely on), which a generator of text and finish reasons would have to re-serialize. `Call` is the request
 * in the protocol the backends speak (protocol/generation-call.ts: OpenAI's completions and chat completions),
 * which the engine layer does not know.
 */
export interface TextGenerator<Call> {
  /** The whole answer: a 2xx whose body is the completion. */
  generate(call: Call): Promise<Response>;
  /** The answer as server-sent events, committed at its 2xx; a failure after that ends it with an error event. */
  stream(call: Call): Promise<Response>;
  // Both: what the generator refuses itself (a prompt too long, a full queue, no upstream that answers) is thrown
  // as an ApiError; what a backend behind it refused comes back as that backend's non-2xx answer, as it was.
}
