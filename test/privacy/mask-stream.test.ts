/**
 * The stream mask over real ReadableStreams: generated text cut into deltas of every size from 1 to 9 characters
 * comes out masked exactly as the whole text would be, one event out per event in (plus at most one carrying what
 * was held, before [DONE] when no event finished the choice), each event still `data: <JSON>` framed.
 */
import { describe, expect, it } from 'vitest';
import { maskEventStream, maskJsonAnswer } from '../../functions/privacy/mask-answer.js';
import { maskPii } from '../../functions/privacy/pii-detect.js';

const TEXT = 'Sure! Write to jane.doe@example.com, or call +44 20 7946 0958 or (415) 555-2671. Card 4111 1111 1111 1111 expires 12/27; '
  + 'IBAN GB82 WEST 1234 5698 7654 32, SSN 123-45-6789, server 2001:db8:85a3::8a2e:370:7334 and 10.0.0.1. Order #A-10023, v1.2.3, $1,234.56. '
  + 'A long tail of ordinary words follows here so that the hold-back releases text several times before the end of the answer.';

function sse(events: string[], byteChunks = 7): Response {
  const bytes = new TextEncoder().encode(events.join(''));
  let at = 0;
  // The bytes cut at arbitrary places too: events and UTF-8 do not arrive whole.
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, (at += byteChunks)));
    },
  });
  return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
}

const chatEvent = (choice: Record<string, unknown>) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, ...choice }] })}\n\n`;
const completionEvent = (choice: Record<string, unknown>) => `data: ${JSON.stringify({ id: 'c', object: 'text_completion', created: 1, model: 'm', choices: [{ index: 0, ...choice }] })}\n\n`;

function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

async function run(response: Response): Promise<{ datas: string[]; text: string }> {
  const body = await maskEventStream(response).text();
  expect(body.endsWith('\n\n')).toBe(true);
  const datas = body.slice(0, -2).split('\n\n').map((e) => {
    expect(e).toMatch(/^data: (\{.*\}|\[DONE\])$/s);
    return e.slice(6);
  });
  const text = datas.filter((d) => d !== '[DONE]').map((d) => {
    const choice = (JSON.parse(d) as { choices?: { delta?: { content?: string }; text?: string }[] }).choices?.[0];
    return choice?.delta?.content ?? choice?.text ?? '';
  }).join('');
  return { datas, text };
}

describe('stream mask', () => {
  const whole = maskPii(TEXT).text;

  it('masks chat deltas of every size as the whole text, keeping one event per event and the finish last', async () => {
    expect(whole).not.toContain('jane.doe');
    for (let size = 1; size <= 9; size++) {
      const events = [...pieces(TEXT, size).map((p) => chatEvent({ delta: { content: p }, finish_reason: null })), chatEvent({ delta: {}, finish_reason: 'stop' }), 'data: [DONE]\n\n'];
      const { datas, text } = await run(sse(events, 5 + size));
      expect(text, `deltas of ${size}`).toBe(whole);
      expect(datas.length).toBe(events.length);
      expect(JSON.parse(datas.at(-2)!).choices[0].finish_reason).toBe('stop');
    }
  });

  it('masks completion text, and sends what it held in an event of its own when no event finished the choice', async () => {
    const events = [...pieces(TEXT, 3).map((p) => completionEvent({ text: p, finish_reason: null })), 'data: [DONE]\n\n'];
    const { datas, text } = await run(sse(events));
    expect(text).toBe(whole);
    expect(datas.length).toBe(events.length + 1);
    expect(datas.at(-1)).toBe('[DONE]');
  });

  it('flushes what it held when the stream ends without [DONE], and before an error event', async () => {
    const cut = await run(sse(pieces(TEXT, 4).map((p) => chatEvent({ delta: { content: p }, finish_reason: null }))));
    expect(cut.text).toBe(whole);
    const failed = [...pieces(TEXT, 4).map((p) => chatEvent({ delta: { content: p }, finish_reason: null })), `data: ${JSON.stringify({ error: { message: 'x', type: 'server_error', code: 'upstream_stream_error', param: null } })}\n\n`];
    const { datas, text } = await run(sse(failed));
    expect(text).toBe(whole);
    expect(JSON.parse(datas.at(-1)!).error.code).toBe('upstream_stream_error');
  });

  it('masks a JSON answer in place', async () => {
    const answer = await maskJsonAnswer(Response.json({ choices: [{ index: 0, message: { role: 'assistant', content: TEXT }, finish_reason: 'stop' }], usage: { prompt_tokens: 1 } }));
    const json = (await answer.json()) as { choices: { message: { content: string } }[]; usage: unknown };
    expect(json.choices[0]!.message.content).toBe(whole);
    expect(json.usage).toEqual({ prompt_tokens: 1 });
  });
});
