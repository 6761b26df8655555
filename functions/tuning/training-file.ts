/**
 * A classification training file: JSON lines of {"text": "...", "label": "..."}, UTF-8. Every refusal names the line
 * and the field, so a user with a 100,000-line file can fix it without guessing.
 */
import { ApiError } from '../http/errors.js';
import type { LabelledText } from './trainer/trainer.js';

export interface TrainingFileLimits {
  maxRows: number;
  /** Distinct labels, at least minLabels. */
  maxLabels: number;
  minLabels: number;
  minRows: number;
  /** Per text, in UTF-16 code units (JavaScript's string length). */
  maxTextChars: number;
  maxLabelChars: number;
}

export const DEFAULT_TRAINING_FILE_LIMITS: TrainingFileLimits = {
  maxRows: 100_000,
  maxLabels: 100,
  minLabels: 2,
  minRows: 2,
  maxTextChars: 100_000,
  // A label becomes a config's id2label entry and every answer's "label": a name, not a paragraph.
  maxLabelChars: 200,
};

export interface TrainingFile {
  rows: LabelledText[];
  /** Distinct labels in first-seen order: the order of the head's logits. */
  labels: string[];
}

export type TrainingFileField = 'text' | 'label';

export class TrainingFileError extends Error {
  constructor(
    message: string,
    /** 1-based; null for what concerns the whole file (too few rows or labels). */
    readonly line: number | null,
    readonly field: TrainingFileField | null,
  ) {
    super(message);
    this.name = 'TrainingFileError';
  }
}

const ROW_SHAPE = '{"text": "...", "label": "..."}';
const LF = 0x0a;

/** The whole file in one go: for callers off the request path (tests, a trainer in its own thread). */
export function parseTrainingFile(bytes: Uint8Array, limits: Partial<TrainingFileLimits> = {}): TrainingFile {
  const parser = new TrainingFileParser(bytes, limits);
  while (!parser.step(Number.POSITIVE_INFINITY));
  return parser.result();
}

/** How long one slice of parsing may hold the event loop before it lets other requests run. */
export const PARSE_SLICE_MS = 4;

/**
 * The same parse in slices of about `sliceMs`, awaiting a macrotask between them, so that validating a 32 MB upload
 * (hundreds of milliseconds of JSON.parse) never holds the event loop from other requests for longer than a slice.
 * setTimeout, not a microtask: only a macrotask lets I/O and other requests in (Node and workerd alike).
 */
export async function parseTrainingFileInSlices(bytes: Uint8Array, limits: Partial<TrainingFileLimits> = {}, sliceMs = PARSE_SLICE_MS): Promise<TrainingFile> {
  const parser = new TrainingFileParser(bytes, limits);
  while (!parser.step(performance.now() + sliceMs)) await new Promise((next) => setTimeout(next, 0));
  return parser.result();
}

/** Bytes decoded at once: small enough that decoding and parsing one chunk stays well under a slice. */
const CHUNK_BYTES = 64 * 1024;

/** Walks the file a chunk of whole lines at a time: decode the chunk (UTF-8, fatal), parse its lines. */
class TrainingFileParser {
  private readonly limit: TrainingFileLimits;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private readonly rows: LabelledText[] = [];
  private readonly labels: string[] = [];
  private readonly seen = new Set<string>();
  /** Byte offset of the next chunk, and the 1-based line it starts with. */
  private offset = 0;
  private line = 1;

  constructor(private readonly bytes: Uint8Array, limits: Partial<TrainingFileLimits>) {
    this.limit = { ...DEFAULT_TRAINING_FILE_LIMITS, ...limits };
  }

  /** Parses chunks until the deadline (performance.now()) has passed or the file is done; true when done. */
  step(deadline: number): boolean {
    do {
      if (this.offset >= this.bytes.length) return true;
      this.parseChunk();
    } while (performance.now() < deadline);
    return this.offset >= this.bytes.length;
  }

  private parseChunk(): void {
    const { bytes } = this;
    const lf = bytes.indexOf(LF, Math.min(bytes.length, this.offset + CHUNK_BYTES));
    const end = lf < 0 ? bytes.length : lf + 1;
    const chunk = bytes.subarray(this.offset, end);
    let text: string;
    try {
      // stream: true so the BOM is dropped at the file's start only (a chunk ends after a LF: nothing is left pending).
      text = this.decoder.decode(chunk, { stream: end < bytes.length });
    } catch {
      throw notUtf8(chunk, this.line);
    }
    let start = 0;
    for (;;) {
      let stop = text.indexOf('\n', start);
      const last = stop < 0;
      if (last) stop = text.length;
      const raw = text.slice(start, stop);
      if (raw.trim() !== '') this.addRow(raw);
      if (last) break;
      start = stop + 1;
      this.line++;
    }
    this.offset = end;
  }

  private addRow(raw: string): void {
    const { limit, line, labels } = this;
    if (this.rows.length === limit.maxRows) throw new TrainingFileError(`line ${line}: the file has more than ${limit.maxRows} rows, the most a training file may have`, line, null);
    const row = parseRow(raw, line, limit);
    if (!this.seen.has(row.label)) {
      if (labels.length === limit.maxLabels) {
        throw new TrainingFileError(`line ${line}: "label" ${quote(row.label)} would be label ${limit.maxLabels + 1}; a classifier has at most ${limit.maxLabels} distinct labels`, line, 'label');
      }
      this.seen.add(row.label);
      labels.push(row.label);
    }
    this.rows.push(row);
  }

  result(): TrainingFile {
    const { rows, labels, limit } = this;
    if (rows.length === 0) throw new TrainingFileError(`the file has no rows; each line is ${ROW_SHAPE}`, null, null);
    if (rows.length < limit.minRows) throw new TrainingFileError(`the file has ${plural(rows.length, 'row')}; training needs at least ${limit.minRows}`, null, null);
    if (labels.length < limit.minLabels) {
      const named = labels.map(quote).join(', ');
      throw new TrainingFileError(`the file has ${plural(labels.length, 'label')} (${named}); a classifier needs at least ${limit.minLabels}`, null, 'label');
    }
    return { rows, labels };
  }
}

/** A 400 with the same message; `param` names the request field that gave the file. */
export function trainingFileErrorToApi(error: TrainingFileError, param = 'file'): ApiError {
  return new ApiError(400, error.message, 'invalid_request_error', 'invalid_training_file', param);
}

/** A chunk that failed to decode, line by line from its first, to say which line holds the bad bytes. */
function notUtf8(chunk: Uint8Array, firstLine: number): TrainingFileError {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let start = 0;
  for (let line = firstLine; start < chunk.length; line++) {
    let end = chunk.indexOf(LF, start);
    if (end < 0) end = chunk.length;
    try {
      decoder.decode(chunk.subarray(start, end));
    } catch {
      return new TrainingFileError(`line ${line} is not UTF-8 text: it holds a byte sequence that UTF-8 does not allow`, line, null);
    }
    start = end + 1;
  }
  return new TrainingFileError('the file is not UTF-8 text', null, null);
}

function parseRow(raw: string, line: number, limit: TrainingFileLimits): LabelledText {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new TrainingFileError(`line ${line} is not JSON: ${(error as Error).message}; each line is ${ROW_SHAPE}`, line, null);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TrainingFileError(`line ${line} is ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}, not an object; each line is ${ROW_SHAPE}`, line, null);
  }
  const row = value as Record<string, unknown>;
  if (!('text' in row) && !('label' in row)) {
    if ('messages' in row) {
      throw new TrainingFileError(`line ${line} is a chat-format row ("messages"), which fine-tunes chat models; this API fine-tunes classifiers: each line is ${ROW_SHAPE}`, line, null);
    }
    if ('prompt' in row || 'completion' in row) {
      throw new TrainingFileError(`line ${line} is a prompt/completion row, which fine-tunes text generators; this API fine-tunes classifiers: each line is ${ROW_SHAPE}`, line, null);
    }
  }
  return { text: readText(row, line, limit), label: readLabel(row, line, limit) };
}

function readText(row: Record<string, unknown>, line: number, limit: TrainingFileLimits): string {
  const text = row.text;
  if (text === undefined) throw new TrainingFileError(`line ${line}: "text" is missing; each line is ${ROW_SHAPE}`, line, 'text');
  if (typeof text !== 'string') throw new TrainingFileError(`line ${line}: "text" must be a string, not ${describe(text)}`, line, 'text');
  if (text.trim() === '') throw new TrainingFileError(`line ${line}: "text" is empty`, line, 'text');
  if (text.length > limit.maxTextChars) throw new TrainingFileError(`line ${line}: "text" has ${text.length} characters; at most ${limit.maxTextChars}`, line, 'text');
  return text;
}

function readLabel(row: Record<string, unknown>, line: number, limit: TrainingFileLimits): string {
  const label = row.label;
  if (label === undefined) throw new TrainingFileError(`line ${line}: "label" is missing; each line is ${ROW_SHAPE}`, line, 'label');
  if (typeof label === 'number' || typeof label === 'boolean') {
    throw new TrainingFileError(`line ${line}: "label" must be a string, not the ${typeof label} ${String(label)}: quote it ("label": "${String(label)}")`, line, 'label');
  }
  if (typeof label !== 'string') throw new TrainingFileError(`line ${line}: "label" must be a string, not ${describe(label)}`, line, 'label');
  if (label.trim() === '') throw new TrainingFileError(`line ${line}: "label" is empty`, line, 'label');
  if (label.length > limit.maxLabelChars) throw new TrainingFileError(`line ${line}: "label" has ${label.length} characters; at most ${limit.maxLabelChars}`, line, 'label');
  return label;
}

const describe = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`);

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A label as the user wrote it, cut so that a message never repeats a whole paragraph. */
const quote = (label: string): string => JSON.stringify(label.length > 60 ? `${label.slice(0, 60)}…` : label);
