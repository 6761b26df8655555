/**
 * Builds a SequenceClassifier from a transformers.js model folder's files, in any runtime: the files come through a
 * reader (disk, bundled modules, a bucket) and the ONNX session through a factory (onnxruntime-web or -node).
 */
import { SequenceClassifier, type OrtSessionLike, type SequenceClassifierOptions, type TensorFactory } from '../classification/sequence-classifier.js';
import { ModelFolderError, parseClassifierConfig } from '../model-config.js';
import { autoTokenizer } from '../tokenizer/auto-tokenizer.js';
import { scalesActivationsPerRun } from './batch-dependence.js';
import { readFolderJson, readOptionalFolderJson, type FolderReader } from './folder-files.js';

export type { FolderReader };

export interface OrtSessionHandle {
  session: OrtSessionLike;
  createTensor: TensorFactory;
}

export interface SessionOptions {
  /**
   * onnxruntime's graph optimization level; default 'all'. Encoders whose outputs must equal other runtimes' (the
   * fine-tuning base, whose exported heads transformers.js runs) use 'basic': at 'all' onnxruntime 1.30 fuses the
   * int8 graph into kernels whose results differ from onnxruntime 1.14's by up to 5e-3, at no measured speed gain
   * for that encoder (bench: basic/all 1.00 for electra-imdb-small, 1.18 for sst2-bert).
   */
  optimization?: 'all' | 'basic';
}

/** Creates an inference session from the bytes of an .onnx file. */
export type SessionFactory = (onnxBytes: Uint8Array, options?: SessionOptions) => Promise<OrtSessionHandle>;

export interface ClassifierFiles {
  read: FolderReader;
  /** The ONNX file's path in the folder, e.g. "onnx/model_quantized.onnx". */
  onnxFile: string;
  /** How errors name the folder: a path, or "model id@version". */
  where: string;
  createSession: SessionFactory;
  onRun?: SequenceClassifierOptions['onRun'];
  maxRunTokens?: SequenceClassifierOptions['maxRunTokens'];
}

export async function classifierFromFiles({ read, onnxFile, where, createSession, onRun, maxRunTokens }: ClassifierFiles): Promise<SequenceClassifier> {
  const tokenizerConfig = await readOptionalFolderJson(read, 'tokenizer_config.json', where);
  const config = parseClassifierConfig(await readFolderJson(read, 'config.json', where), tokenizerConfig);
  const tokenizer = autoTokenizer(await readFolderJson(read, 'tokenizer.json', where), { accept: ['WordPiece'], maxLength: config.maxLength });
  const bytes = await read(onnxFile);
  if (!bytes) throw new ModelFolderError(`${where} has no ${onnxFile}`);
  const { session, createTensor } = await createSession(bytes);
  return new SequenceClassifier({ session, tokenizer, createTensor, labels: config.labels, onRun, maxRunTokens, oneTextPerRun: scalesActivationsPerRun(bytes) });
}
