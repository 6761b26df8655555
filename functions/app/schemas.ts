/**
 * The request and response schemas of the public API. The routes declare them (http/route-declaration.ts): the
 * same declaration validates requests and makes the OpenAPI document, so the two cannot drift apart.
 */
import { z } from '@hono/zod-openapi';
import { SCORE_FUNCTIONS } from '../engine/classification/scores.js';
import { ExplainOption, Explanation } from './explanations.js';

export const MAX_TEXT_CHARS = 100_000;

const Text = z
  .string({ error: 'must be a string' })
  .refine((text) => text.trim() !== '', { error: 'is empty' })
  .refine((text) => text.length <= MAX_TEXT_CHARS, { error: (issue) => `has ${(issue.input as string).length} characters; at most ${MAX_TEXT_CHARS}` })
  .openapi({ description: `A text to classify (at most ${MAX_TEXT_CHARS.toLocaleString('en')} characters; longer token sequences are truncated to the model's max_tokens).`, example: 'a gorgeous, witty, seductive movie' });

/** One text or a batch of them; the batch maximum is the model's `limits.max_batch`. */
export const Texts = z
  .union([Text, z.array(Text).min(1, { error: 'is an empty array' })], { error: 'must be a string or a non-empty array of strings' })
  .openapi({ description: "One text, or a batch of at most the model's limits.max_batch texts." });

const TopK = z.number({ error: 'must be a positive integer' }).int({ error: 'must be a positive integer' }).min(1, { error: 'must be a positive integer' });

/** `cache: false`: run the model even where the answer is cached, and leave the cache as it is. */
const CacheOption = z
  .boolean({ error: 'must be true or false' })
  .openapi({ description: 'false: answer from the model, not the classification cache, and leave the cache unchanged (X-Cache: bypass). Default true where the deployment has a cache.' });

const ModelName = z
  .string({ error: 'must be a non-empty string' })
  .min(1, { error: 'must be a non-empty string' })
  .openapi({ description: 'A model id, id@version or alias from GET /v1/models; the default model when omitted.', example: 'sentiment' });

// Strict: a misspelt or unsupported option (topk, function_to_apply: that is the HF route's) would otherwise be
// dropped in silence and the caller would trust an answer computed without it.
export const ClassifyRequest = z
  .object(
    {
      model: ModelName.optional(),
      input: Texts,
      top_k: TopK.optional().openapi({ description: 'How many labels to return per text, best first (default: all).' }),
      explain: ExplainOption.optional(),
      cache: CacheOption.optional(),
    },
    {
      error: (issue) => (issue.code === 'unrecognized_keys'
        ? `has no ${issue.keys.map((key) => JSON.stringify(key)).join(', ')}: the fields are model, input, top_k, explain and cache`
        : 'must be a JSON object'),
    },
  )
  .strict()
  .openapi('ClassifyRequest');

export const LabelScore = z
  .object({ label: z.string(), score: z.number(), explanation: Explanation.optional().openapi({ description: 'With explain: on the top label (or every returned one), which words made it.' }) })
  .openapi('LabelScore');

export const ClassifyResponse = z
  .object({
    model: z.string().openapi({ description: 'The model that answered, as id@version.', example: 'sst2-glove-bilstm@2' }),
    results: z.array(z.array(LabelScore)).openapi({ description: 'Per input text, its labels by descending score (softmax).' }),
    truncated: z.array(z.boolean()).openapi({ description: "Per input text, whether it was cut to the model's max_tokens." }),
    usage: z.object({
      input_tokens: z.number().int().openapi({ description: 'Tokens the model read, the explanation\'s included; billed at the model\'s input-token price.' }),
      texts: z.number().int(),
      explanation_tokens: z.number().int().optional().openapi({ description: 'With explain: the part of input_tokens that the explanation read.' }),
    }),
  })
  .openapi('ClassifyResponse');

export const HfClassifyRequest = z
  .object({
    inputs: Texts,
    parameters: z
      .object({
        top_k: TopK.optional(),
        function_to_apply: z.enum(SCORE_FUNCTIONS, { error: `must be one of ${SCORE_FUNCTIONS.join(', ')}` }).optional(),
        explain: ExplainOption.optional(),
        cache: CacheOption.optional(),
      }, { error: 'must be an object' })
      .optional(),
    options: z
      .object({
        use_cache: z.boolean({ error: 'must be true or false' }).optional().openapi({ description: 'The Inference API\'s legacy option: false answers from the model and leaves the cache unchanged (X-Cache: bypass), as the x-use-cache: false header does.' }),
        wait_for_model: z.boolean({ error: 'must be true or false' }).optional().openapi({ description: 'Accepted for compatibility; edge models are loaded before the server is ready, so there is nothing to wait for.' }),
      }, { error: 'must be an object' })
      .optional(),
    cache: CacheOption.optional(),
  })
  .openapi('HfTextClassificationRequest');

/** HF Inference API's request header: x-use-cache: false skips the cache (case-insensitive true/false, 1/0). */
export const HfClassifyHeaders = z.object({
  'x-use-cache': z
    .string()
    // Case-insensitive without a regex flag, so that the OpenAPI pattern says the same.
    .regex(/^(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|1|0)$/, { error: 'must be true or false' })
    .optional()
    .openapi({ description: 'false: answer from the model, not the classification cache, and leave the cache unchanged (X-Cache: bypass), as the Hugging Face Inference API reads it. Default true.' }),
});

export const HfClassifyResponse = z.array(z.array(LabelScore)).openapi('HfTextClassificationResponse', {
  description: 'One list per input (a single input is nested too), as the Hugging Face Inference API answers.',
});

/** What runs an edge model's inference where the router runs: WASM at the edge (and ORT_BACKEND=wasm in Node), native in Node. */
export const EDGE_ENGINES = ['onnxruntime-web', 'onnxruntime-node'] as const;
export type EdgeEngine = (typeof EDGE_ENGINES)[number];

export const ModelCard = z
  .object({
    id: z.string().openapi({ example: 'sst2-glove-bilstm@2', description: 'id@version for registry models; the full name (ft:...) for fine-tuned ones.' }),
    object: z.literal('model'),
    created: z.number().int().openapi({ description: "Unix seconds when a fine-tuned model was made; 0 for registry models (their entries carry no date)." }),
    owned_by: z.string().openapi({ description: '"system" for registry models; the tenant for fine-tuned ones.', example: 'system' }),
    task: z.string().openapi({ example: 'text-classification' }),
    runtime: z.enum(['edge-wasm', 'gpu-upstream']),
    engine: z.enum(EDGE_ENGINES).nullable().openapi({
      description: 'What serves an edge-wasm model here: onnxruntime-web (WASM, as at the edge) or onnxruntime-node (native, the Node server\'s default); null for gpu-upstream models, which their upstream serves.',
      example: 'onnxruntime-node',
    }),
    version: z.string(),
    aliases: z.array(z.string()),
    labels: z.array(z.string()),
    limits: z.object({ max_tokens: z.number().int(), max_batch: z.number().int() }),
    price: z.object({
      request_micro_usd: z.number(),
      input_token_micro_usd: z.number(),
      output_token_micro_usd: z.number(),
      cache_request_micro_usd: z.number().optional().openapi({ description: 'A classification answered from the exact-match cache (X-Cache: hit): this flat price, no token charges. Absent where the model has no cache price.' }),
    }),
  })
  .openapi('Model');

export const ModelList = z.object({ object: z.literal('list'), data: z.array(ModelCard) }).openapi('ModelList');

export const DeletedModel = z.object({ id: z.string(), object: z.literal('model'), deleted: z.literal(true) }).openapi('DeletedModel');

/** A model named in the path: GET /v1/models/{id}, POST /models/{id}. */
export const ModelId = z.string().openapi({ param: { name: 'id', in: 'path' }, description: 'id, id@version or alias', example: 'sentiment' });
