// An upstream that answers 200 with something other than what was asked: a body that is not JSON for a plain
// completion, or JSON for a streamed one. Passed on, the first read as a success the client cannot parse, the second
// as a stream glued to an error event; both are a 502 naming the upstream's fault.
import { describe, expect, it } from 'vitest';
import { complete, errorOf, rawUpstream, router, stopAfterEach } from './upstream-helpers.js';

stopAfterEach();

describe('an upstream whose 200 is not what was asked for', () => {
  it('is a 502 upstream_invalid_response, JSON error, for a body that is not a JSON object and for a stream that is not an event stream', async () => {
    const upstream = await rawUpstream((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d));
      req.on('end', () => {
        const streamed = (JSON.parse(body) as { stream?: boolean }).stream === true;
        if (streamed) res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"x","choices":[]}');
        else if (body.includes('"array"')) res.writeHead(200, { 'content-type': 'application/json' }).end('[1, 2]');
        else res.writeHead(200, { 'content-type': 'text/html' }).end('<html>proxy login</html>');
      });
    });
    const { url } = await router([upstream.url]);
    for (const [body, says] of [
      [{ max_tokens: 4 }, /not a JSON object \(text\/html, 24 bytes\)/],
      [{ max_tokens: 4, user: 'array' }, /not a JSON object/],
      [{ max_tokens: 4, stream: true }, /streamed request with application\/json, not an event stream/],
    ] as const) {
      const response = await complete(url, body);
      expect(response.status).toBe(502);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      const error = await errorOf(response);
      expect(error.code).toBe('upstream_invalid_response');
      expect(error.message).toMatch(says);
    }
  });
});
