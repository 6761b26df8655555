/** Reads a labelled TSV (header `<text column>\tlabel`, one `text\tclass id` row per line), as SST-2 ships it. */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../../functions/node/cli.js';

export interface LabelledText {
  text: string;
  label: number;
}

export async function readLabelledTsv(path: string): Promise<LabelledText[]> {
  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch {
    throw new UsageError(`data file not found: ${path} (set DATA_DIR or pass --data)`);
  }
  const [header, ...lines] = content.split('\n').filter((line) => line.trim() !== '');
  if (!header || header.split('\t')[1]?.trim() !== 'label') throw new UsageError(`${path}: expected a header "<text>\\tlabel"`);
  return lines.map((line, i) => {
    const [text, label] = line.split('\t');
    const id = Number(label);
    if (text === undefined || !Number.isInteger(id) || id < 0) throw new UsageError(`${path}:${i + 2}: expected "<text>\\t<class id>"`);
    return { text: text.trim(), label: id };
  });
}
