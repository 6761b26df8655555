/** Reading a model folder's files in any runtime: disk, bundled modules or a bucket behind one reader. */
import { ModelFolderError } from '../model-config.js';

/** Reads a file of the model folder by its relative path; null when it is missing. */
export type FolderReader = (path: string) => Promise<Uint8Array | null>;

/** A JSON file of the folder, which must be there. */
export async function readFolderJson<T = unknown>(read: FolderReader, name: string, where: string): Promise<T> {
  const bytes = await read(name);
  if (!bytes) throw new ModelFolderError(`${where} is not a model folder: ${name} is missing`);
  return parseFolderJson<T>(bytes, name, where);
}

/** A JSON file the folder may lack (tokenizer_config.json, generation_config.json): a missing one reads as {}. */
export async function readOptionalFolderJson<T = unknown>(read: FolderReader, name: string, where: string): Promise<T> {
  const bytes = await read(name);
  return bytes ? parseFolderJson<T>(bytes, name, where) : ({} as T);
}

function parseFolderJson<T>(bytes: Uint8Array, name: string, where: string): T {
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch {
    throw new ModelFolderError(`${where} is not a model folder: ${name} is not valid JSON`);
  }
}
