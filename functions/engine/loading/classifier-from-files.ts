/**
 * Builds a SequenceClassifier from a transformers.js model folder's files, in any runtime: the files come through a
 * reader (disk, bundled modules, a bucket) and the ONNX session through a factory (onnxruntime-web or -node).
 */
import { ModelFolderError, parseClassifierConfig } from '../model-config.js';
import { readFolderJson, type FolderReader } from './folder-files.js';

export type { FolderReader };
import { SequenceClassifier, type OrtSessionLike, type TensorFactory } from '../classification/sequence-classifier.js';
import { WordPieceTokenizer } from '../tokenizer/wordpiece-tokenizer.js';


export interface OrtSessionHandle {
  session: OrtSessionLike;
  createTensor: TensorFactory;
}

/** Creates an inference session from the bytes of an .onnx file. */
export type SessionFactory = (onnxBytes: Uint8Array) => Promise<OrtSessionHandle>;

export async function classifierFromFiles(read: FolderReader, onnxFile: string, where: string, createSession: SessionFactory): Promise<SequenceClassifier> {
  const tokenizerConfig = await readFolderJson(read, 'tokenizer_config.json', where, false);
  const config = parseClassifierConfig(await readFolderJson(read, 'config.json', where), tokenizerConfig);
  const tokenizer = WordPieceTokenizer.fromJson(await readFolderJson(read, 'tokenizer.json', where), config.maxLength);
  const bytes = await read(onnxFile);
  if (!bytes) throw new ModelFolderError(`${where} has no ${onnxFile}`);
  const { session, createTensor } = await createSession(bytes);
  return new SequenceClassifier(session, tokenizer, createTensor, config.labels);
}
