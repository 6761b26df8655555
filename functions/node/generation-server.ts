/**
 * The generation server's Node entry (what the GPU container runs): `npm run start:generation` serves an ONNX
 * decoder on http://127.0.0.1:8000 with the OpenAI API. GEN_MODEL_DIR (default: stories260K from ../shared, or
 * $MODELS_MIRROR/stories260K), GEN_MODEL_ID, GEN_EXECUTION_PROVIDER=cpu|cuda, GEN_MAX_BATCH (1 turns continuous
 * batching off), GEN_MAX_QUEUE, GEN_TIMEOUT_MS, PORT and HOST configure it.
 */
import { choiceFromEnv, intFromEnv, runEntry } from './entry.js';
import { DEFAULT_GENERATION_PORT, startGenerationServer } from './start-generation-server.js';

runEntry(
  () => startGenerationServer({
    port: intFromEnv('PORT', DEFAULT_GENERATION_PORT, 0),
    host: process.env.HOST,
    modelDir: process.env.GEN_MODEL_DIR,
    modelId: process.env.GEN_MODEL_ID,
    executionProvider: choiceFromEnv('GEN_EXECUTION_PROVIDER', ['cpu', 'cuda'], 'cpu'),
    maxBatch: intFromEnv('GEN_MAX_BATCH', 16, 1),
    maxQueue: intFromEnv('GEN_MAX_QUEUE', 256, 0),
    timeoutMs: intFromEnv('GEN_TIMEOUT_MS', 120_000, 1),
  }),
  (running) => console.log(`generation server listening on ${running.url} (model ${running.modelId})`),
);
