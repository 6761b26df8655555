/**
 * The request just sent, as code to paste: curl, the openai client, @huggingface/inference. The key is never in
 * them: they read it from $EDGE_MAAS_API_KEY.
 */
export type SnippetKind = 'curl' | 'openai' | 'huggingface';
export const SNIPPET_NAMES: Record<SnippetKind, string> = { curl: 'curl', openai: 'openai (JS)', huggingface: '@huggingface/inference' };

export interface SentRequest {
  path: string;
  body: Record<string, unknown>;
}

const shellQuote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;

export function snippet(kind: SnippetKind, origin: string, sent: SentRequest, keyed: boolean): string {
  const json = JSON.stringify(sent.body, null, 2);
  const keyEnv = 'process.env.EDGE_MAAS_API_KEY';
  if (kind === 'curl') {
    return [`curl ${shellQuote(`${origin}${sent.path}`)} \\`, ...(keyed ? ['  -H "Authorization: Bearer $EDGE_MAAS_API_KEY" \\'] : []),
      `  -H 'content-type: application/json' \\`, ...(sent.body.stream ? ['  -N \\'] : []), `  -d ${shellQuote(JSON.stringify(sent.body))}`].join('\n');
  }
  const { model, ...rest } = sent.body as { model?: string; input?: unknown; stream?: boolean; [k: string]: unknown };
  if (sent.path === '/v1/classify') {
    if (kind === 'openai') return '// The openai client has no classification call: use curl, fetch or @huggingface/inference for /v1/classify.';
    const input = Array.isArray(rest.input) ? rest.input : [rest.input];
    return [`import { InferenceClient } from '@huggingface/inference';`, '',
      `const client = new InferenceClient(${keyed ? keyEnv : "'unused'"});`,
      ...input.map((text) => `console.log(await client.textClassification({ endpointUrl: ${JSON.stringify(`${origin}/models/${model ?? 'sentiment'}`)}, inputs: ${JSON.stringify(text)} }));`)].join('\n');
  }
  const call = sent.path === '/v1/chat/completions' ? 'chat.completions' : 'completions';
  if (kind === 'openai') {
    return [`import OpenAI from 'openai';`, '',
      `const client = new OpenAI({ baseURL: ${JSON.stringify(`${origin}/v1`)}, apiKey: ${keyed ? keyEnv : "'unused'"} });`,
      sent.body.stream
        ? `const stream = await client.${call}.create(${json});\nfor await (const chunk of stream) process.stdout.write(${call === 'completions' ? "chunk.choices[0]?.text ?? ''" : "chunk.choices[0]?.delta?.content ?? ''"});`
        : `console.log(await client.${call}.create(${json}));`].join('\n');
  }
  if (call === 'completions') return '// @huggingface/inference speaks chat completions, not text completions: use curl or openai for /v1/completions.';
  return [`import { InferenceClient } from '@huggingface/inference';`, '',
    `const client = new InferenceClient(${keyed ? keyEnv : "'unused'"});`,
    `for await (const chunk of client.chatCompletionStream({ endpointUrl: ${JSON.stringify(`${origin}/v1`)}, ...${json} })) {`,
    `  process.stdout.write(chunk.choices[0]?.delta?.content ?? '');`, '}'].join('\n');
}
