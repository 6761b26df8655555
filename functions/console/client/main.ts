/**
 * The console's client: the shell names the page (body[data-page]); this mounts it into #page and says in the
 * header who is signed in. Anything a page did not catch is shown on the page, never left to the console alone.
 */
import { messageOf } from './api.js';
import { h, notice, pageRoot } from './dom.js';
import { showWho } from './who.js';
import { mountHome } from './pages/home.js';
import { mountPlayground } from './pages/playground.js';
import { mountUsage } from './pages/usage.js';
import { mountKeys } from './pages/keys.js';
import { mountFineTuning } from './pages/fine-tuning.js';
import { mountReference } from './pages/reference.js';

const PAGES: Record<string, (root: HTMLElement) => void | Promise<void>> = {
  home: mountHome, playground: mountPlayground, usage: mountUsage, keys: mountKeys, 'fine-tuning': mountFineTuning, reference: mountReference,
};

function showProblem(error: unknown): void {
  pageRoot().prepend(notice('error', `Something went wrong on this page: ${messageOf(error)}`));
}

window.addEventListener('unhandledrejection', (event) => {
  event.preventDefault();
  showProblem(event.reason);
});

async function start(): Promise<void> {
  showWho();
  const root = pageRoot();
  root.replaceChildren();
  const mount = PAGES[document.body.dataset.page ?? 'home'] ?? mountHome;
  try {
    await mount(root);
  } catch (error) {
    showProblem(error);
  }
  root.append(h('span', { hidden: true, 'data-ready': 'true' }));
  document.body.dataset.ready = 'true';
}

void start();
