/**
 * A training file (JSON lines of {"text", "label"}, already validated) under the privacy policy before it is
 * stored: each row's text masked (the line written again, its other fields kept), or the upload refused (block)
 * naming the line and the kinds found. A file with nothing to mask is kept byte for byte as uploaded.
 */
import type { Screening } from './screen.js';
import { screenText } from './screen.js';

export function screenTrainingFile(bytes: Uint8Array, screening: Screening): Uint8Array {
  if (screening.pii === 'off') return bytes;
  const lines = new TextDecoder().decode(bytes).split('\n');
  let changed = false;
  const out = lines.map((line, i) => {
    if (line.trim() === '') return line;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      return line; // the parser accepted the file: nothing here it reads as a row
    }
    if (typeof row !== 'object' || row === null || typeof (row as { text?: unknown }).text !== 'string') return line;
    const text = (row as { text: string }).text;
    const screened = screenText(text, screening, `file line ${i + 1}`, 'file');
    if (screened === text) return line;
    changed = true;
    return JSON.stringify({ ...row, text: screened }) + (line.endsWith('\r') ? '\r' : '');
  });
  return changed ? new TextEncoder().encode(out.join('\n')) : bytes;
}
