/**
 * The playground: a model from /v1/models; for a classifier, texts in (one per line), labels and scores out as bars
 * and, with "explain", each word shaded by its attribution; for a generation model, a chat or completion streamed in
 * token by token, with the latency, tokens and cost of the request; and the request as code to copy.
 */
import { signInFirst } from '../auth-mode.js';
import { ApiProblem, call, messageOf, problemOf, send } from '../api.js';
import { field, h, notice, show } from '../dom.js';
import { costOf, count, ms, percent, usd } from '../format.js';
import { listModels, type ModelCard } from '../models.js';
import { session } from '../session.js';
import { SNIPPET_NAMES, snippet, type SentRequest, type SnippetKind } from '../snippets.js';
import { readEvents } from '../sse.js';

interface Word { text: string; start: number; end: number; attribution: number }
interface Scored { label: string; score: number; explanation?: { words: Word[] } }
interface ClassifyAnswer { model: string; results: Scored[][]; usage: { input_tokens: number; explanation_tokens?: number } }

/** The text with each explained word shaded: green toward the label, red against it, stronger for larger |a|. */
function shadedText(text: string, words: Word[]): HTMLElement {
  const out = h('p', { className: 'shaded' });
  const largest = Math.max(1e-9, ...words.map((w) => Math.abs(w.attribution)));
  let at = 0;
  for (const word of words) {
    if (word.start > at) out.append(text.slice(at, word.start));
    const strength = Math.abs(word.attribution) / largest;
    const span = h('span', { className: 'word', title: `${word.attribution >= 0 ? '+' : ''}${word.attribution.toFixed(4)}`, 'data-attribution': String(word.attribution) }, text.slice(word.start, word.end));
    span.style.backgroundColor = word.attribution >= 0 ? `rgba(22, 163, 74, ${(0.08 + 0.6 * strength).toFixed(3)})` : `rgba(220, 38, 38, ${(0.08 + 0.6 * strength).toFixed(3)})`;
    out.append(span);
    at = word.end;
  }
  if (at < text.length) out.append(text.slice(at));
  return out;
}

function scoreBars(scores: Scored[]): HTMLElement {
  return h('ul', { className: 'bars', 'aria-label': 'Scores' }, scores.map((s, i) => {
    const bar = h('span', { className: `bar${i === 0 ? ' top' : ''}` });
    bar.style.width = `${Math.max(0.5, s.score * 100).toFixed(1)}%`;
    return h('li', { 'data-label': s.label },
      h('span', { className: 'bar-label' }, s.label),
      h('span', { className: 'bar-track', role: 'img', 'aria-label': `${s.label} ${percent(s.score)}` }, bar),
      h('span', { className: 'bar-value' }, percent(s.score)));
  }));
}

function snippetPanel(sent: SentRequest, kinds: SnippetKind[]): HTMLElement {
  const code = h('pre', { className: 'snippet', tabindex: '0', 'aria-label': 'Code for this request' });
  const copied = h('span', { role: 'status', className: 'copied' });
  let kind = kinds[0]!;
  const tabs = kinds.map((k) => h('button', { type: 'button', className: 'tab', 'aria-pressed': String(k === kind), onclick: () => select(k) }, SNIPPET_NAMES[k]));
  const select = (next: SnippetKind) => {
    kind = next;
    tabs.forEach((tab, i) => tab.setAttribute('aria-pressed', String(kinds[i] === next)));
    code.textContent = snippet(next, location.origin, sent, Boolean(session.apiKey()));
    copied.textContent = '';
  };
  select(kind);
  const copy = h('button', { type: 'button', className: 'secondary', onclick: async () => {
    try {
      await navigator.clipboard.writeText(code.textContent ?? '');
      copied.textContent = 'Copied.';
    } catch {
      copied.textContent = 'The browser refused the clipboard: select the code and copy it.';
    }
  } }, 'Copy');
  return h('section', { className: 'card', 'aria-label': 'Copy as code' }, h('div', { className: 'tabs', role: 'group', 'aria-label': 'Language' }, tabs, copy, copied), code);
}

function classifyPanel(model: ModelCard, out: HTMLElement): HTMLElement {
  const texts = h('textarea', { rows: 4, name: 'texts', required: true }, 'A gripping, beautifully acted film.\nThe plot was dull and the ending made no sense.');
  const explain = h('input', { type: 'checkbox', name: 'explain', checked: true });
  const run = h('button', { type: 'submit' }, 'Classify');
  const form = h('form', { className: 'card', 'aria-label': 'Classify' },
    field('Texts, one per line', texts, `At most ${model.limits?.max_batch ?? 64} texts.`),
    h('div', { className: 'field inline' }, explain, h('label', { for: (explain.id = 'explain') }, 'Explain: shade each word by how much it moved the score')),
    h('div', { className: 'actions' }, run));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const lines = texts.value.split('\n').map((t) => t.trim()).filter((t) => t.length > 0);
    if (lines.length === 0) return show(out, notice('error', 'Enter at least one text.'));
    const body = { model: model.id, input: lines.length === 1 ? lines[0]! : lines, ...(explain.checked ? { explain: true } : {}) };
    run.disabled = true;
    show(out, notice('info', 'Classifying…'));
    const started = performance.now();
    try {
      const answer = await call<ClassifyAnswer>('/v1/classify', { body });
      const took = performance.now() - started;
      const cost = costOf(model.price, answer.usage.input_tokens, 0);
      show(out,
        h('p', { className: 'meta', role: 'status' }, `${ms(took)} · ${count(answer.usage.input_tokens)} input tokens${cost === null ? '' : ` · ${usd(cost)} at list price`} · ${answer.model}`),
        h('ol', { className: 'results' }, answer.results.map((scores, i) => {
          const top = scores[0];
          return h('li', { className: 'result card', 'data-top-label': top?.label ?? '' },
            top?.explanation ? shadedText(lines[i]!, top.explanation.words) : h('p', { className: 'shaded' }, lines[i]!),
            h('p', { className: 'verdict' }, h('strong', {}, top?.label ?? '?'), ` ${top ? percent(top.score) : ''}`),
            scoreBars(scores));
        })),
        snippetPanel({ path: '/v1/classify', body }, ['curl', 'huggingface', 'openai']));
    } catch (error) {
      show(out, notice('error', `The classification failed: ${messageOf(error)}`));
    } finally {
      run.disabled = false;
    }
  });
  return form;
}

interface Chunk {
  choices: { text?: string; delta?: { content?: string }; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number } | null;
  error?: { message: string };
}

function generatePanel(model: ModelCard, out: HTMLElement): HTMLElement {
  const mode = h('select', { name: 'mode' }, h('option', { value: 'chat' }, 'Chat'), h('option', { value: 'completion' }, 'Completion'));
  const prompt = h('textarea', { rows: 3, name: 'prompt', required: true }, 'Once upon a time');
  const maxTokens = h('input', { type: 'number', name: 'max_tokens', min: 1, max: model.limits?.max_tokens ?? 512, value: 64 });
  const run = h('button', { type: 'submit' }, 'Generate');
  const stop = h('button', { type: 'button', className: 'secondary', disabled: true }, 'Stop');
  let controller: AbortController | null = null;
  stop.addEventListener('click', () => controller?.abort());
  const form = h('form', { className: 'card', 'aria-label': 'Generate' },
    h('div', { className: 'row' }, field('Mode', mode), field('Max tokens', maxTokens)),
    field('Prompt', prompt), h('div', { className: 'actions' }, run, stop));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chat = mode.value === 'chat';
    const path = chat ? '/v1/chat/completions' : '/v1/completions';
    const body = {
      model: model.id, ...(chat ? { messages: [{ role: 'user', content: prompt.value }] } : { prompt: prompt.value }),
      max_tokens: Number(maxTokens.value) || 64, stream: true, stream_options: { include_usage: true },
    };
    const text = h('output', { className: 'stream', 'aria-live': 'off', 'aria-label': 'Generated text' });
    const meta = h('p', { className: 'meta', role: 'status' }, 'Waiting for the first token…');
    const problem = h('div');
    show(out, h('section', { className: 'card' }, text, meta, problem), snippetPanel({ path, body }, ['curl', 'openai', 'huggingface']));
    controller = new AbortController();
    run.disabled = true;
    stop.disabled = false;
    const started = performance.now();
    let firstToken: number | null = null;
    let tokens = 0;
    let usage: Chunk['usage'] = null;
    let finished = false;
    try {
      const response = await send(path, { body, signal: controller.signal });
      if (!response.ok) throw await problemOf(response);
      await readEvents(response, ({ event, data }) => {
        if (data === '[DONE]') {
          finished = true;
          return;
        }
        const chunk = JSON.parse(data) as Chunk;
        if (event === 'error' || chunk.error) throw new ApiProblem(`the stream ended with an error: ${chunk.error?.message ?? data}`, null);
        usage = chunk.usage ?? usage;
        for (const choice of chunk.choices ?? []) {
          const piece = choice.text ?? choice.delta?.content ?? '';
          if (piece) {
            firstToken ??= performance.now() - started;
            tokens += 1;
            text.append(h('span', { className: 'token' }, piece));
          }
        }
        meta.textContent = `${tokens} tokens so far · first after ${ms(firstToken ?? 0)}`;
      });
      if (!finished) throw new ApiProblem('the stream ended before the server said it was done: the server may have gone away', null);
      const took = performance.now() - started;
      const u = usage as Chunk['usage'];
      const cost = u ? costOf(model.price, u.prompt_tokens, u.completion_tokens) : null;
      meta.textContent = [`${ms(took)} in all`, `first token after ${ms(firstToken ?? took)}`,
        u ? `${u.prompt_tokens} prompt + ${u.completion_tokens} completion tokens` : `${tokens} tokens`,
        cost === null ? null : `${usd(cost)} at list price`].filter(Boolean).join(' · ');
    } catch (error) {
      const stopped = error instanceof ApiProblem && error.code === 'aborted';
      const cut = error instanceof TypeError || (error instanceof DOMException && error.name !== 'AbortError');
      meta.textContent = `${tokens} tokens received`;
      show(problem, stopped ? notice('info', 'Stopped.')
        : notice('error', cut ? 'The connection to the server was lost mid-stream: the server went away or the network dropped. The text above is what arrived.'
          : `The generation failed: ${messageOf(error)}`));
    } finally {
      run.disabled = false;
      stop.disabled = true;
      controller = null;
    }
  });
  return form;
}

export async function mountPlayground(root: HTMLElement): Promise<void> {
  const first = signInFirst('The playground');
  if (first) return show(root, first);
  let models: ModelCard[];
  try {
    models = (await listModels()).filter((m) => m.task === 'text-classification' || m.task === 'text-generation');
  } catch (error) {
    return show(root, notice('error', `The models could not be listed: ${messageOf(error)}`), h('p', {}, h('a', { href: '/' }, 'Sign in')));
  }
  if (models.length === 0) return show(root, notice('info', 'This server has no classification or generation model.'));
  const wanted = new URLSearchParams(location.search).get('model');
  const picker = h('select', { name: 'model' }, models.map((m) => h('option', { value: m.id, selected: m.id === wanted || m.aliases?.includes(wanted ?? '') },
    `${m.id} (${m.task === 'text-generation' ? 'generation' : 'classification'}${m.owned_by && m.owned_by !== 'system' ? ', fine-tuned' : ''})`)));
  const panel = h('div');
  const out = h('div', { className: 'output', 'aria-live': 'polite' });
  const pick = () => {
    const model = models.find((m) => m.id === picker.value) ?? models[0]!;
    show(out);
    show(panel, model.task === 'text-generation' ? generatePanel(model, out) : classifyPanel(model, out));
  };
  picker.addEventListener('change', pick);
  show(root, h('div', { className: 'card' }, field('Model', picker)), panel, out);
  pick();
}
