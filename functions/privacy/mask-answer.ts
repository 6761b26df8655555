/**
 * Generated text masked on its way to the client. A JSON answer is masked whole. A stream keeps its server-sent
 * events (one out for each one in, same fields, usage untouched), but each choice's text is held back by up to
 * HOLD_CHARS (cut at a space, never inside a value found; released EMIT_STEP characters or more at a time) so that a value split across two chunks ("+44 20" then
 * " 7946 0958") is still seen whole; what is held goes out with the choice's finishing event, or in an event of its
 * own before [DONE], an error event or the end of the stream.
 */
import { rewriteSseEvents } from '../http/sse-rewrite.js';
import { findPii, maskPii, MASKS, type PiiMatch } from './pii-detect.js';

/** The most text a stream holds back per choice: longer than any value the detector finds but an e-mail of over 128 characters. */
export const HOLD_CHARS = 128;
/** Held text goes out in steps of at least this many characters: one scan per few deltas rather than one per delta. */
export const EMIT_STEP = 32;

type Json = Record<string, unknown>;

function maskChoices(answer: Json): void {
  if (!Array.isArray(answer.choices)) return;
  for (const choice of answer.choices as Json[]) {
    const message = choice.message as Json | undefined;
    if (message && typeof message.content === 'string') message.content = maskPii(message.content).text;
    if (typeof choice.text === 'string') choice.text = maskPii(choice.text).text;
  }
}

export async function maskJsonAnswer(response: Response): Promise<Response> {
  const text = await response.text();
  let answer: Json;
  try {
    answer = JSON.parse(text) as Json;
  } catch {
    return new Response(maskPii(text).text, response);
  }
  maskChoices(answer);
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  return new Response(JSON.stringify(answer), { status: response.status, statusText: response.statusText, headers });
}

const replaced = (text: string, matches: PiiMatch[], end: number): string => {
  let out = '';
  let at = 0;
  for (const m of matches) {
    if (m.end > end) break;
    out += text.slice(at, m.start) + MASKS[m.kind];
    at = m.end;
  }
  return out + text.slice(at, end);
};

/** What of `text` may go out now (masked) and what is held back. */
export function splitHeld(text: string, final: boolean): [string, string] {
  if (final) return [maskPii(text).text, ''];
  if (text.length < HOLD_CHARS + EMIT_STEP) return ['', text];
  let cut = text.length - HOLD_CHARS;
  for (let i = cut - 1; i >= 0; i--) {
    const ch = text.charCodeAt(i);
    if (ch === 32 || ch === 10 || ch === 9 || ch === 13) {
      cut = i + 1;
      break;
    }
  }
  const matches = findPii(text);
  for (const m of matches) if (m.start < cut && m.end > cut) cut = m.start;
  return [replaced(text, matches, cut), text.slice(cut)];
}

/** The text field of a streamed choice: chat's delta.content, or the completion's text. */
function textOf(choice: Json): { get: () => string | undefined; set: (text: string) => void } {
  const delta = choice.delta as Json | undefined;
  if (delta && typeof delta === 'object') {
    return { get: () => (typeof delta.content === 'string' ? delta.content : undefined), set: (text) => void (delta.content = text) };
  }
  return { get: () => (typeof choice.text === 'string' ? choice.text : undefined), set: (text) => void (choice.text = text) };
}

export function maskEventStream(response: Response): Response {
  const held = new Map<number, string>();
  let template: Json | null = null;

  /** An event carrying what is still held of each choice, shaped as the last content event was. */
  const flush = (): string => {
    const rest = [...held.entries()].filter(([, text]) => text !== '');
    held.clear();
    if (rest.length === 0 || !template) return '';
    const { usage: _usage, choices: _choices, ...head } = template;
    const isChat = (template.object as string | undefined)?.includes('chat') ?? false;
    const choices = rest.map(([index, text]) => isChat
      ? { index, delta: { content: maskPii(text).text }, finish_reason: null }
      : { index, text: maskPii(text).text, finish_reason: null });
    return `data: ${JSON.stringify({ ...head, choices })}\n\n`;
  };

  const shape = (event: string): string => {
    const data = /^data: ?(.*)$/m.exec(event)?.[1];
    if (data === undefined) return event;
    if (data.trim() === '[DONE]') return flush() + event;
    let parsed: Json;
    try {
      parsed = JSON.parse(data) as Json;
    } catch {
      return event;
    }
    if (parsed.error !== undefined) return flush() + event;
    if (!Array.isArray(parsed.choices) || parsed.choices.length === 0) return event;
    for (const choice of parsed.choices as Json[]) {
      const index = typeof choice.index === 'number' ? choice.index : 0;
      const field = textOf(choice);
      const piece = field.get();
      const finished = choice.finish_reason !== null && choice.finish_reason !== undefined;
      if (piece === undefined && !finished) continue;
      const [out, keep] = splitHeld((held.get(index) ?? '') + (piece ?? ''), finished);
      held.set(index, keep);
      if (piece !== undefined || out !== '') field.set(out);
    }
    template = parsed;
    return `data: ${JSON.stringify(parsed)}\n\n`;
  };

  const shapeAll = (rest: string) => (rest.trim() === '' ? '' : shape(rest.endsWith('\n\n') ? rest : `${rest}\n\n`));
  const body = rewriteSseEvents(response.body!, { event: shape, end: (rest) => shapeAll(rest) + flush() });
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}
