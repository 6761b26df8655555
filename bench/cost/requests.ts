/** The request types the cost model prices, the same on every runtime: what is sent, and what answer it expects. */

export type RequestKind = 'classify-1' | 'classify-64' | 'stream' | 'refused-401' | 'refused-429' | 'refused-400';

export interface CostRequest {
  kind: RequestKind;
  label: string;
  method: 'POST';
  path: string;
  body: string;
  /** Which key it carries: the normal key, a key whose rate limit is spent, or a key that does not exist. */
  key: 'good' | 'limited' | 'bad';
  status: number;
}

export const ONE_TEXT = 'a wonderful , heartfelt film .';

export function costRequests(texts64: string[]): CostRequest[] {
  const classify = (input: unknown) => JSON.stringify({ input });
  return [
    { kind: 'classify-1', label: 'classify 1 text', method: 'POST', path: '/v1/classify', body: classify(ONE_TEXT), key: 'good', status: 200 },
    { kind: 'classify-64', label: 'classify 64 texts', method: 'POST', path: '/v1/classify', body: classify(texts64), key: 'good', status: 200 },
    {
      kind: 'stream', label: 'streamed generation (16 tokens)', method: 'POST', path: '/v1/chat/completions', key: 'good', status: 200,
      body: JSON.stringify({ model: 'tiny-stories', messages: [{ role: 'user', content: 'Once upon a time' }], stream: true, max_tokens: 16, temperature: 0, stream_options: { include_usage: true } }),
    },
    { kind: 'refused-401', label: 'refused: unknown key (401)', method: 'POST', path: '/v1/classify', body: classify(ONE_TEXT), key: 'bad', status: 401 },
    { kind: 'refused-429', label: 'refused: rate limited (429)', method: 'POST', path: '/v1/classify', body: classify(ONE_TEXT), key: 'limited', status: 429 },
    { kind: 'refused-400', label: 'refused: invalid body (400)', method: 'POST', path: '/v1/classify', body: JSON.stringify({ input: 42 }), key: 'good', status: 400 },
  ];
}

/** Well-shaped (em_ and 40 base62 characters), so it is looked up as a real key would be, and found in no store. */
export const BAD_KEY = `em_${'0'.repeat(40)}`;
