/** Reading a model folder's files in any runtime: disk, bundled modules or a bucket behind one reader. */
import { ModelFolderError } from '../model-config.js';

/** Reads a file of the model folder by its relative path; null when it is missing. */
export type FolderReader = (path: string) => Promise<Uint8Array | null>;

/**
 * A JSON file of the folder, which must be there. (`required = false` is the older spelling of
 * readOptionalFolderJson, kept until every caller uses that.)
 */
export async function readFolderJson<T = unknown>(read: FolderReader, name: string, where: string, required = true): Promise<T> {
  const bytes = await read(name);
  if (!bytes) {
    if (!required) return {} as T;
    throw new ModelFolderError(`${where} is not a model folder: ${name} is missing`);
  }
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch {
    throw new ModelFolderError(`${where} is not a model folder: ${name} is not valid JSON`);
  }
}

/** A JSON file the folder may lack (tokenizer_config.json, generation_config.json): a missing one reads as {}. */
export function readOptionalFolderJson<T = unknown>(read: FolderReader, name: string, where: string): Promise<T> {
  return readFolderJson<T>(read, name, where, false);
}
