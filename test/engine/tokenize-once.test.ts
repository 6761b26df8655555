// The route counts a request's tokens (admission, the empty-text check) and then classifies the same texts: the
// classifier keeps what countTokens tokenized, so a served text is tokenized once, with the same answer.
import { describe, expect, it } from 'vitest';
import { SequenceClassifier, type PaddingTokenizer } from '../../functions/engine/classification/sequence-classifier.js';
import { loadClassifier } from '../../functions/node/load-classifier.js';
import { defaultModelDir } from '../paths.js';

async function counting() {
  const served = await loadClassifier(defaultModelDir, { variant: 'model_quantized', backend: 'node' });
  const inner = (served as unknown as { tokenizer: PaddingTokenizer }).tokenizer;
  const tokenized: string[] = [];
  const tokenizer: PaddingTokenizer = { type: inner.type, padId: inner.padId, tokenize: (text, options) => (tokenized.push(text), inner.tokenize(text, options)) };
  const classifier = new SequenceClassifier({ ...(served as unknown as { session: never; createTensor: never }), tokenizer, labels: served.labels });
  return { served, classifier, tokenized };
}

describe('SequenceClassifier tokenizes a counted text once', () => {
  it('reuses countTokens\' encodings in classify(), with the logits and counts of a fresh tokenization', async () => {
    const { served, classifier, tokenized } = await counting();
    const texts = ['a gripping , funny film', 'dull and far too long', 'a gripping , funny film'];
    const counts = classifier.countTokens(texts);
    expect(tokenized).toHaveLength(3);
    const result = await classifier.classify(texts);
    // The duplicate was kept once: its second copy is tokenized again.
    expect(tokenized).toHaveLength(4);
    expect(result.tokenCounts).toEqual(counts);
    const fresh = await served.classify(texts);
    expect(result.logits.map((row) => [...row])).toEqual(fresh.logits.map((row) => [...row]));
    // Taken once: a second classify of the same texts tokenizes them.
    await classifier.classify(texts.slice(0, 2));
    expect(tokenized).toHaveLength(6);
  }, 60_000);

  it('keeps no text longer than its bound, and no more than its bound of entries', async () => {
    const { classifier, tokenized } = await counting();
    const long = 'word '.repeat(1000);
    classifier.countTokens([long]);
    await classifier.classify([long]);
    expect(tokenized).toEqual([long, long]);
    const many = Array.from({ length: 1025 }, (_, i) => `text number ${i}`);
    classifier.countTokens(many);
    tokenized.length = 0;
    // The 1,025th entry found the map full and cleared it: only it is still kept.
    await classifier.classify([many[0]!, many[1024]!]);
    expect(tokenized).toEqual([many[0]]);
  }, 60_000);
});
