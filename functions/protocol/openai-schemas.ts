/** Request schemas of the OpenAI-compatible completions and chat completions APIs, as this server accepts them. */
import { z } from '@hono/zod-openapi';

const positiveInt = (what: string) => z.number({ error: `must be ${what}` }).int({ error: `must be ${what}` }).min(1, { error: `must be ${what}` });

/** Stop matching rescans up to a stop string's length of text on every generated token: bound it. */
export const MAX_STOP_LENGTH = 256;

const Stop = z
  .union([z.string(), z.array(z.string(), { error: 'must be a string or an array of strings' }).max(4, { error: 'holds at most 4 stop strings' })], {
    error: 'must be a string or an array of at most 4 strings',
  })
  .superRefine((stop, ctx) => {
    const texts = typeof stop === 'string' ? [stop] : stop;
    const long = texts.find((text) => text.length > MAX_STOP_LENGTH);
    // An empty stop string matches before the first token: every generation would end at once, empty.
    if (texts.includes('')) ctx.addIssue({ code: 'custom', message: 'holds an empty string; each stop string needs at least one character' });
    else if (long !== undefined) ctx.addIssue({ code: 'custom', message: `holds a string of ${long.length} characters; each stop string may have at most ${MAX_STOP_LENGTH}` });
  });

const StreamOptions = z.object(
  {
    include_usage: z.boolean({ error: 'must be true or false' }).optional(),
    /** vLLM's extension: every chunk carries the usage so far (with include_usage, which defaults to true here). */
    continuous_usage_stats: z.boolean({ error: 'must be true or false' }).optional(),
  },
  { error: 'must be an object' },
);

const sampling = {
  model: z.string({ error: 'must be a string naming a model from GET /v1/models' }).min(1, { error: 'must name a model' }),
  max_tokens: positiveInt('a positive integer').optional(),
  temperature: z.number({ error: 'must be a number from 0 to 2' }).min(0, { error: 'must be from 0 to 2' }).max(2, { error: 'must be from 0 to 2' }).optional(),
  top_p: z.number({ error: 'must be a number in (0, 1]' }).gt(0, { error: 'must be in (0, 1]' }).max(1, { error: 'must be in (0, 1]' }).optional(),
  top_k: z.number({ error: 'must be an integer' }).int({ error: 'must be an integer' }).min(-1, { error: 'must be -1 or 0 (off) or a positive integer' }).optional(),
  seed: z.number({ error: 'must be an integer' }).int({ error: 'must be an integer' }).optional(),
  stop: Stop.nullable().optional(),
  n: z.literal(1, { error: 'must be 1: this server returns one choice per request' }).optional(),
  stream: z.boolean({ error: 'must be true or false' }).optional(),
  stream_options: StreamOptions.nullable().optional(),
  user: z.string().optional(),
};

export const CompletionRequest = z.object({
  ...sampling,
  prompt: z.union([z.string(), z.array(z.string()).length(1, { error: 'may hold one prompt only (n and batching of prompts are not supported)' })], {
    error: 'must be a string (or an array holding one string)',
  }),
});

const TextPart = z.object({ type: z.literal('text', { error: 'only "text" content parts are supported' }), text: z.string() });

export const ChatMessage = z.object({
  role: z.enum(['system', 'user', 'assistant', 'developer'], { error: 'must be "system", "developer", "user" or "assistant"' }),
  content: z.union([z.string(), z.array(TextPart)], { error: 'must be a string or an array of text parts' }),
});

export const ChatCompletionRequest = z.object({
  ...sampling,
  max_completion_tokens: positiveInt('a positive integer').optional(),
  messages: z.array(ChatMessage, { error: 'must be an array of messages' }).min(1, { error: 'must hold at least one message' }),
});

export type CompletionRequest = z.output<typeof CompletionRequest>;
export type ChatCompletionRequest = z.output<typeof ChatCompletionRequest>;
export type ChatMessage = z.output<typeof ChatMessage>;
