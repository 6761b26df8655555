/**
 * Builds a SequenceClassifier from a transformers.js model folder's files, in any runtime: the files come through a
 * reader (disk, bundled modules, a bucket) and the ONNX session through a factory (onnxruntime-web or -node).
 */
import { ModelFolderError, parseClassifierConfig } from '../model-config.js';
import { SequenceClassifier, type OrtSessionLike, type TensorFactory } from '../classification/sequence-classifier.js';
import { WordPieceTokenizer } from '../tokenizer/wordpiece-tokenizer.js';

/** Reads a file of the model folder by its relative path; null when it is missing. */
export type FolderReader = (path: string) => Promise<Uint8Array | null>;

export interface OrtSessionHandle {
  session: OrtSessionLike;
  createTensor: TensorFactory;
}

/** Creates an inference session from the bytes of an .onnx file. */
export type SessionFactory = (onnxBytes: Uint8Array) => Promise<OrtSessionHandle>;

async function readJson(read: FolderReader, name: string, required: boolean, where: string): Promise<unknown> {
  const bytes = await read(name);
  if (!bytes) {
    if (!required) return {};
    throw new ModelFolderError(`${where} is not a model folder: ${name} is missing`);
  }
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new ModelFolderError(`${where} is not a model folder: ${name} is not valid JSON`);
  }
}

export async function classifierFromFiles(read: FolderReader, onnxFile: string, where: string, createSession: SessionFactory): Promise<SequenceClassifier> {
  const tokenizerConfig = await readJson(read, 'tokenizer_config.json', false, where);
  const config = parseClassifierConfig(await readJson(read, 'config.json', true, where), tokenizerConfig);
  const tokenizer = WordPieceTokenizer.fromJson(await readJson(read, 'tokenizer.json', true, where), config.maxLength);
  const bytes = await read(onnxFile);
  if (!bytes) throw new ModelFolderError(`${where} has no ${onnxFile}`);
  const { session, createTensor } = await createSession(bytes);
  return new SequenceClassifier(session, tokenizer, createTensor, config.labels);
}
