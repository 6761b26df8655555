/**
 * The docs page's "Explanations" section: a real answer of POST /v1/classify with explain on, its text shown with
 * each word shaded by its attribution (green toward the label, red against it, stronger for a larger share of the
 * largest attribution), the numbers in each word's title, a legend, and the request and answer as JSON.
 */
import { MAX_EXPLAINED_TEXTS, MAX_EXPLAINED_WORDS, type ExplainedLabelScore } from '../explanations.js';
import { escapeHtml } from './escape-html.js';

/** What the section shows: a request to /v1/classify with explain on, and what the route answered to it. */
export interface ExplainedExample {
  request: { input: string; explain: true };
  response: { model: string; results: ExplainedLabelScore[][]; truncated: boolean[]; usage: Record<string, number> };
}

export const TOWARD_RGB = [22, 163, 74] as const;
export const AGAINST_RGB = [220, 38, 38] as const;
/** The faintest shade a non-zero attribution gets, and the strongest (the largest attribution of the text). */
const MIN_ALPHA = 0.15;
const MAX_ALPHA = 0.85;

const signed = (n: number) => `${n >= 0 ? '+' : '\u2212'}${Math.abs(n).toFixed(3)}`;

/** The background of a word: its sign picks the colour, its share of the largest |attribution| the opacity. */
export function shade(attribution: number, largest: number): string {
  if (attribution === 0 || largest === 0) return 'transparent';
  const [r, g, b] = attribution > 0 ? TOWARD_RGB : AGAINST_RGB;
  const alpha = MIN_ALPHA + (MAX_ALPHA - MIN_ALPHA) * (Math.abs(attribution) / largest);
  return `rgba(${r}, ${g}, ${b}, ${alpha.toFixed(3)})`;
}

function shadedText(text: string, explained: ExplainedLabelScore): string {
  const { explanation, label, score } = explained;
  const words = explanation?.words ?? [];
  const largest = Math.max(0, ...words.map((w) => Math.abs(w.attribution)));
  let html = '';
  let at = 0;
  for (const word of words) {
    html += escapeHtml(text.slice(at, word.start));
    const without = score - word.attribution;
    const title = `${word.text}: ${signed(word.attribution)} ${word.attribution >= 0 ? 'toward' : 'against'} ${label} (score ${score.toFixed(3)}, ${without.toFixed(3)} without it)`;
    html += `<span class="word" data-attribution="${word.attribution}" style="background-color:${shade(word.attribution, largest)}" title="${escapeHtml(title)}">${escapeHtml(text.slice(word.start, word.end))}</span>`;
    at = word.end;
  }
  return html + escapeHtml(text.slice(at));
}

function legend(label: string, largest: number): string {
  const swatch = (attribution: number, caption: string) =>
    `<span class="word" style="background-color:${shade(attribution, largest)}">${escapeHtml(caption)}</span>`;
  return `<p class="legend">${swatch(largest, `${signed(largest)} toward ${label}`)} ${swatch(largest / 4, signed(largest / 4))}
${swatch(-largest / 4, signed(-largest / 4))} ${swatch(-largest, `${signed(-largest)} against ${label}`)}
<br>A word's shade is its attribution: the label's score less its score with that word deleted, the strongest shade
for the largest here (${largest.toFixed(3)}). Hover over a word for its numbers; punctuation is never deleted and
stays unshaded.</p>`;
}

export function renderExplanationSection(example: ExplainedExample | null): string {
  const intro = `<h2>Explanations</h2>
<p>With <code>"explain": true</code> (on <code>POST /v1/classify</code>; <code>parameters.explain</code> on
<code>POST /models/{id}</code>) each text's top label comes with every word's attribution: occlusion, the text
classified again once per word with that word left out. Each left-out variant is one more text for the model to read,
billed as input tokens (<code>usage.explanation_tokens</code>). At most ${MAX_EXPLAINED_TEXTS} texts and
${MAX_EXPLAINED_WORDS} words per request; a text the model truncates is explained over the part it read.</p>`;
  const top = example?.response.results[0]?.[0];
  if (!example || !top?.explanation) {
    return `<section id="explanations">${intro}\n<p class="unavailable">No live example here: the default model could not be run when this page was rendered.</p></section>`;
  }
  const largest = Math.max(0, ...top.explanation.words.map((w) => Math.abs(w.attribution)));
  const curl = `curl -s $BASE/v1/classify -H 'content-type: application/json' -d '${JSON.stringify(example.request).replace(/'/g, `'\\''`)}'`;
  return `<section id="explanations">${intro}
<p>Computed by <code>${escapeHtml(example.response.model)}</code> when this page was rendered:
<strong>${escapeHtml(top.label)}</strong> (${top.score.toFixed(3)}).</p>
<p class="explained">${shadedText(example.request.input, top)}</p>
${legend(top.label, largest)}
<p>The request (<code>BASE</code>: this server's address):</p>
<pre class="request">${escapeHtml(curl)}</pre>
<details><summary>The answer</summary><pre>${escapeHtml(JSON.stringify(example.response, null, 2))}</pre></details>
</section>`;
}
