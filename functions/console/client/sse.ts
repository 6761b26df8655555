/**
 * Server-sent events read from a fetch Response (EventSource cannot send an Authorization header): each event's
 * name, data and id as they arrive. Ends when the stream ends; a stream cut short rejects with the reader's error.
 */
export interface SseEvent {
  event: string;
  data: string;
  id: string | null;
}

export async function readEvents(response: Response, onEvent: (event: SseEvent) => void): Promise<void> {
  if (!response.body) throw new Error('the answer has no body to stream');
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = 'message';
  let data: string[] = [];
  let id: string | null = null;
  const line = (text: string) => {
    if (text === '') {
      if (data.length > 0) onEvent({ event, data: data.join('\n'), id });
      event = 'message';
      data = [];
      return;
    }
    if (text.startsWith(':')) return; // a comment (heartbeat)
    const colon = text.indexOf(':');
    const name = colon < 0 ? text : text.slice(0, colon);
    const value = colon < 0 ? '' : text.slice(colon + 1).replace(/^ /, '');
    if (name === 'data') data.push(value);
    else if (name === 'event') event = value;
    else if (name === 'id') id = value;
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += value;
    let end: number;
    while ((end = buffer.search(/\r?\n/)) >= 0) {
      line(buffer.slice(0, end));
      buffer = buffer.slice(end + (buffer[end] === '\r' ? 2 : 1));
    }
  }
  if (buffer.length > 0) line(buffer);
  line('');
}
