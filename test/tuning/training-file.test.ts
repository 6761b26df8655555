import { describe, expect, it } from 'vitest';
import { ApiError } from '../../functions/http/errors.js';
import { parseTrainingFile, parseTrainingFileInSlices, TrainingFileError, trainingFileErrorToApi, type TrainingFileLimits } from '../../functions/tuning/training-file.js';

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const jsonl = (...rows: unknown[]): string => rows.map((row) => JSON.stringify(row)).join('\n');

function refusal(file: string | Uint8Array, limits?: Partial<TrainingFileLimits>): TrainingFileError {
  try {
    parseTrainingFile(typeof file === 'string' ? encode(file) : file, limits);
  } catch (error) {
    if (error instanceof TrainingFileError) return error;
    throw error;
  }
  throw new Error('the file was accepted');
}

describe('parseTrainingFile accepts', () => {
  it('JSON lines of text and label, labels in first-seen order', () => {
    const file = parseTrainingFile(encode(jsonl({ text: 'great', label: 'pos' }, { text: 'awful', label: 'neg' }, { text: 'fine', label: 'pos' })));
    expect(file.labels).toEqual(['pos', 'neg']);
    expect(file.rows).toEqual([{ text: 'great', label: 'pos' }, { text: 'awful', label: 'neg' }, { text: 'fine', label: 'pos' }]);
  });

  it('a byte order mark, CRLF line ends, blank lines and a final newline', () => {
    const file = parseTrainingFile(encode(`\uFEFF{"text": "a", "label": "x"}\r\n\r\n   \n{"text": "b", "label": "y"}\r\n`));
    expect(file.rows).toEqual([{ text: 'a', label: 'x' }, { text: 'b', label: 'y' }]);
  });

  it('any label strings, non-ASCII text and other fields beside the two', () => {
    const file = parseTrainingFile(encode(jsonl({ text: 'très bien 👍', label: 'Positive Review', id: 1 }, { text: 'mal', label: 'négatif' })));
    expect(file.labels).toEqual(['Positive Review', 'négatif']);
    expect(file.rows[0]!.text).toBe('très bien 👍');
  });

  it('100,000 rows in well under a second', () => {
    const labels = ['world', 'sports', 'business', 'science'];
    const lines = Array.from({ length: 100_000 }, (_, i) => JSON.stringify({ text: `row ${i}: a headline of a few words about something that happened`, label: labels[i % 4] }));
    const bytes = encode(lines.join('\n'));
    const file = parseTrainingFile(bytes);
    expect(file.rows).toHaveLength(100_000);
    expect(file.labels).toEqual(labels);
    // The best of three, so that a machine busy with other tests does not decide it (about 300 ms on 2 busy cores).
    const times = [0, 1, 2].map(() => {
      const started = performance.now();
      parseTrainingFile(bytes);
      return performance.now() - started;
    });
    expect(Math.min(...times)).toBeLessThan(1_000);
  });
});

describe('parseTrainingFile refuses, naming the line and field', () => {
  const good = { text: 'fine', label: 'pos' };
  const other = { text: 'bad', label: 'neg' };

  it('a line that is not JSON', () => {
    const error = refusal(`${jsonl(good, other)}\n{"text": "oops", label: "neg"}`);
    expect(error.line).toBe(3);
    expect(error.field).toBeNull();
    expect(error.message).toMatch(/^line 3 is not JSON: /);
  });

  it('a line that is JSON but not an object', () => {
    expect(refusal(`${jsonl(good)}\n["fine", "pos"]`)).toMatchObject({ line: 2, field: null, message: expect.stringMatching(/^line 2 is an array, not an object/) });
    expect(refusal(`"just text"\n${jsonl(good)}`)).toMatchObject({ line: 1, message: expect.stringMatching(/a string, not an object/) });
  });

  it('a row without text or without label', () => {
    expect(refusal(jsonl(good, { label: 'neg' }))).toMatchObject({ line: 2, field: 'text', message: expect.stringMatching(/^line 2: "text" is missing/) });
    expect(refusal(jsonl(good, other, { text: 'meh' }))).toMatchObject({ line: 3, field: 'label', message: expect.stringMatching(/^line 3: "label" is missing/) });
  });

  it('an empty or blank text, a text that is not a string, a text past the limit', () => {
    expect(refusal(jsonl(good, { text: '  \t ', label: 'neg' }))).toMatchObject({ line: 2, field: 'text', message: 'line 2: "text" is empty' });
    expect(refusal(jsonl({ text: 42, label: 'pos' }, other))).toMatchObject({ line: 1, field: 'text', message: expect.stringMatching(/"text" must be a string, not a number/) });
    expect(refusal(jsonl(good, { text: 'x'.repeat(101), label: 'neg' }), { maxTextChars: 100 })).toMatchObject({ line: 2, field: 'text', message: 'line 2: "text" has 101 characters; at most 100' });
  });

  it('a number or boolean label, with a hint to quote it', () => {
    const error = refusal(jsonl(good, { text: 'bad', label: 1 }));
    expect(error).toMatchObject({ line: 2, field: 'label' });
    expect(error.message).toBe('line 2: "label" must be a string, not the number 1: quote it ("label": "1")');
    expect(refusal(jsonl({ text: 'a', label: true }, good)).message).toMatch(/not the boolean true: quote it \("label": "true"\)/);
  });

  it('an empty label, a null or object label', () => {
    expect(refusal(jsonl(good, { text: 'bad', label: ' ' }))).toMatchObject({ line: 2, field: 'label', message: 'line 2: "label" is empty' });
    expect(refusal(jsonl(good, { text: 'bad', label: null }))).toMatchObject({ line: 2, field: 'label', message: expect.stringMatching(/not null/) });
    expect(refusal(jsonl(good, { text: 'bad', label: { name: 'neg' } })).message).toMatch(/not an object/);
  });

  it('chat-format and prompt/completion rows, saying what this API expects', () => {
    const chat = refusal(jsonl({ messages: [{ role: 'user', content: 'hi' }] }));
    expect(chat).toMatchObject({ line: 1, field: null });
    expect(chat.message).toMatch(/chat-format row \("messages"\).*fine-tunes classifiers: each line is \{"text": "\.\.\.", "label": "\.\.\."\}/);
    expect(refusal(jsonl(good, { prompt: 'Review: great', completion: ' pos' })).message).toMatch(/^line 2 is a prompt\/completion row.*classifiers/);
  });

  it('one label only, naming it', () => {
    const error = refusal(jsonl(good, { text: 'lovely', label: 'pos' }));
    expect(error).toMatchObject({ line: null, field: 'label' });
    expect(error.message).toBe('the file has 1 label ("pos"); a classifier needs at least 2');
  });

  it('more than 100 labels, at the line of the 101st', () => {
    const rows = Array.from({ length: 101 }, (_, i) => ({ text: `t${i}`, label: `label-${i}` }));
    const error = refusal(jsonl(...rows));
    expect(error).toMatchObject({ line: 101, field: 'label' });
    expect(error.message).toBe('line 101: "label" "label-100" would be label 101; a classifier has at most 100 distinct labels');
    expect(parseTrainingFile(encode(jsonl(...rows.slice(0, 100)))).labels).toHaveLength(100);
  });

  it('more rows than the limit, and fewer than two', () => {
    expect(refusal(jsonl(good, other, good), { maxRows: 2 })).toMatchObject({ line: 3, field: null, message: expect.stringMatching(/more than 2 rows/) });
    expect(refusal(jsonl(good))).toMatchObject({ line: null, message: 'the file has 1 row; training needs at least 2' });
    expect(refusal('\n\n')).toMatchObject({ line: null, message: expect.stringMatching(/^the file has no rows/) });
  });

  it('bytes that are not UTF-8, at their line', () => {
    const head = encode(`${jsonl(good, other)}\n{"text": "caf`);
    const bytes = new Uint8Array([...head, 0xe9, ...encode('", "label": "pos"}\n'), ...encode(jsonl(good))]);
    const error = refusal(bytes);
    expect(error).toMatchObject({ line: 3, field: null });
    expect(error.message).toMatch(/^line 3 is not UTF-8 text/);
  });

  it('turns into a 400 invalid_training_file answer', () => {
    const api = trainingFileErrorToApi(refusal(jsonl(good, { text: 'x' })));
    expect(api).toBeInstanceOf(ApiError);
    expect(api).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'invalid_training_file', param: 'file', message: 'line 2: "label" is missing; each line is {"text": "...", "label": "..."}' });
    expect(trainingFileErrorToApi(refusal(jsonl(good)), 'training_file').param).toBe('training_file');
  });
});

describe('parseTrainingFileInSlices', () => {
  const labels = ['world', 'sports', 'business', 'science'];
  // About 4 MB: many 64 KiB chunks, so lines are counted across chunk ends.
  const lines = Array.from({ length: 40_000 }, (_, i) => JSON.stringify({ text: `row ${i}: a headline of a few words about something that happened, née ✓`, label: labels[i % 4] }));
  const bytes = encode(`\uFEFF${lines.join('\r\n')}\n`);

  async function slicedRefusal(file: Uint8Array): Promise<TrainingFileError> {
    const error = await parseTrainingFileInSlices(file).then(() => new Error('the file was accepted'), (e: unknown) => e);
    if (error instanceof TrainingFileError) return error;
    throw error;
  }

  it('reads what the one-go parse reads', async () => {
    expect(await parseTrainingFileInSlices(bytes)).toEqual(parseTrainingFile(bytes));
  });

  it('lets timers (and so other requests) run between its slices', async () => {
    let ticks = 0;
    let longestGap = 0;
    let last = performance.now();
    let parsing = true;
    const tick = () => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
      ticks++;
      if (parsing) setTimeout(tick, 0);
    };
    setTimeout(tick, 0);
    await parseTrainingFileInSlices(bytes, {}, 4);
    parsing = false;
    // A parse that never yields lets no timer run before it ends (0 ticks); how many run depends on how fast this
    // machine parses (an idle one needs few 4 ms slices), so the count asks only that timers ran in between.
    expect(ticks).toBeGreaterThanOrEqual(2);
    // Slices of 4 ms plus a chunk; generous for 2 busy cores, far below the whole parse (about 100 ms here).
    expect(longestGap).toBeLessThan(60);
  });

  it('names the line of bad bytes, JSON or field in a later chunk, as the one-go parse does', async () => {
    const at = 30_000;
    const bad = (replacement: Uint8Array) => {
      const before = encode(`${lines.slice(0, at - 1).join('\n')}\n`);
      const after = encode(`\n${lines.slice(at).join('\n')}`);
      return new Uint8Array([...before, ...replacement, ...after]);
    };
    for (const replacement of [
      new Uint8Array([...encode('{"text": "caf'), 0xe9, ...encode('", "label": "pos"}')]),
      encode('{"text": "oops", label: 1}'),
      encode('{"text": "x"}'),
      // A byte order mark is dropped at the file's start only: inside, it is not JSON.
      encode('\uFEFF{"text": "x", "label": "world"}'),
    ]) {
      const file = bad(replacement);
      const sliced = await slicedRefusal(file);
      expect(sliced.line).toBe(at);
      expect(sliced).toEqual(refusal(file));
    }
  });
});
