/**
 * Refuses prompts that cannot fit the model's context before any tokenizing or template rendering, in time
 * linear in the request and with no tokenizer work: a prompt's token count is at least its normalized UTF-8 bytes
 * over the longest vocabulary piece, so a prompt past that bound gets 400 context_length_exceeded at once.
 */
import { invalidRequest } from '../http/errors.js';
import type { GenerationEngine } from '../engine/generation/generation-engine.js';
import type { ChatMessage } from '../protocol/openai-schemas.js';

/** `reserved`: tokens kept for the reply (max_tokens, or its default). */
const tooLong = (context: number, what: string, reserved: number, param: string) =>
  invalidRequest(`this model's maximum context length is ${context} tokens; ${what}, with ${reserved} kept for the reply`, param, 'context_length_exceeded');

export interface PromptFit {
  /** Whether the tokenizer will prepend BOS (a rendered chat template writes its own). */
  addBos: boolean;
  /** Tokens kept for the reply. */
  reserved: number;
  /** The request's field an error names. */
  param: string;
}

/** Throws unless `text` (at least minTokens tokens) plus `reserved` generated tokens could fit the context. */
export function checkPromptFits(engine: GenerationEngine, text: string, { addBos, reserved, param }: PromptFit): void {
  const context = engine.decoder.shape.maxPositions;
  const { maxPieceBytes } = engine.tokenizer;
  const budget = context - reserved;
  // UTF-16 length never exceeds UTF-8 length: an O(1) refusal before the O(n) count.
  if (text.length > budget * maxPieceBytes) {
    throw tooLong(context, `the prompt is ${text.length} characters, at least ${Math.ceil(text.length / maxPieceBytes)} tokens`, reserved, param);
  }
  const least = engine.tokenizer.minTokens(text, addBos);
  if (least > budget) throw tooLong(context, `the prompt has at least ${least} tokens`, reserved, param);
}

/**
 * OpenAI's own limit. Jinja renders about 0.2 ms per message on the event loop: a long-context model's bound
 * alone (one token per message) would let one request hold it for seconds.
 */
export const MAX_MESSAGES = 2048;

/**
 * Before the chat template renders: every message adds at least one token (its role's markup), and its text is
 * tokenized whole, so more messages than the context, or more characters than the context's bytes, cannot fit.
 */
export function checkMessagesFit(engine: GenerationEngine, messages: ChatMessage[], reserved: number): void {
  if (messages.length > MAX_MESSAGES) throw invalidRequest(`"messages" holds ${messages.length} messages; at most ${MAX_MESSAGES} are allowed`, 'messages');
  const context = engine.decoder.shape.maxPositions;
  const budget = context - reserved;
  if (messages.length > budget) throw tooLong(context, `${messages.length} messages take at least ${messages.length} tokens`, reserved, 'messages');
  let characters = 0;
  for (const message of messages) {
    const content = message.content;
    characters += typeof content === 'string' ? content.length : content.reduce((sum, part) => sum + part.text.length, 0);
  }
  if (characters > budget * engine.tokenizer.maxPieceBytes) {
    throw tooLong(context, `the messages hold ${characters} characters, at least ${Math.ceil(characters / engine.tokenizer.maxPieceBytes)} tokens`, reserved, 'messages');
  }
}
