/** Builds a GenerationEngine from a transformers.js decoder folder (config, generation config, tokenizer, ONNX). */
import { GenerationEngine, type GenerationEngineOptions } from '../generation/generation-engine.js';
import { KvDecoder, type DecoderSession, type DecoderTensorFactory } from '../generation/kv-decoder.js';
import { ModelFolderError } from '../model-config.js';
import { BpeTokenizer } from '../tokenizer/bpe-tokenizer.js';
import { readFolderJson, readOptionalFolderJson, type FolderReader } from './folder-files.js';

export type DecoderSessionFactory = (onnxBytes: Uint8Array) => Promise<{ session: DecoderSession; tensor: DecoderTensorFactory }>;

/** How the engine runs (the folder gives its end-of-sequence ids and chat template), and which ONNX file to load. */
export type DecoderLoadOptions = Omit<GenerationEngineOptions, 'eosIds' | 'chatTemplate'> & {
  /** Default: onnx/model.onnx. */
  onnxFile?: string;
};

interface LlamaConfig {
  num_hidden_layers?: number;
  num_attention_heads?: number;
  num_key_value_heads?: number;
  hidden_size?: number;
  vocab_size?: number;
  max_position_embeddings?: number;
  eos_token_id?: number | number[];
}

/** A single template, or the one named "default" of a list (as Hugging Face stores several). */
function chatTemplateOf(value: string | { name: string; template: string }[] | undefined): string | undefined {
  if (typeof value === 'string') return value;
  return value?.find((t) => t.name === 'default')?.template;
}

const ids = (value: number | number[] | undefined) => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** `where` names the folder in errors; `read` reads its files. */
export async function loadGenerationEngine(read: FolderReader, where: string, createSession: DecoderSessionFactory, options: DecoderLoadOptions): Promise<GenerationEngine> {
  const { onnxFile = 'onnx/model.onnx', ...engineOptions } = options;
  const config = await readFolderJson<LlamaConfig>(read, 'config.json', where);
  const generation = await readOptionalFolderJson<{ eos_token_id?: number | number[] }>(read, 'generation_config.json', where);
  const tokenizer = BpeTokenizer.fromJson(await readFolderJson(read, 'tokenizer.json', where));
  const tokenizerConfig = await readOptionalFolderJson<{ chat_template?: string | { name: string; template: string }[] }>(read, 'tokenizer_config.json', where);
  const { num_hidden_layers: layers, num_attention_heads: heads, hidden_size: hidden, vocab_size: vocabSize, max_position_embeddings: maxPositions } = config;
  if (!layers || !heads || !hidden || !vocabSize || !maxPositions) {
    throw new ModelFolderError(`${where}: config.json lacks num_hidden_layers, num_attention_heads, hidden_size, vocab_size or max_position_embeddings`);
  }
  const bytes = await read(onnxFile);
  if (!bytes) throw new ModelFolderError(`${where} has no ${onnxFile}`);
  const { session, tensor } = await createSession(bytes);
  for (const name of ['input_ids', 'attention_mask', 'position_ids', 'past_key_values.0.key']) {
    if (!session.inputNames.includes(name)) throw new ModelFolderError(`${where}: ${onnxFile} has no "${name}" input; a decoder with a KV cache is needed`);
  }
  const decoder = new KvDecoder(session, tensor, { layers, kvHeads: config.num_key_value_heads ?? heads, headDim: hidden / heads, vocabSize, maxPositions });
  const eosIds = [...new Set([...ids(generation.eos_token_id), ...ids(config.eos_token_id), tokenizer.eosId])];
  return new GenerationEngine(decoder, tokenizer, { ...engineOptions, eosIds, chatTemplate: chatTemplateOf(tokenizerConfig.chat_template) });
}
