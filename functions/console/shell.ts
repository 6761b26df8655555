/**
 * The HTML every console page starts as: the navigation, the page's heading and an empty region the client script
 * fills. Rendered with Hono's html template (escaped), once per page and process.
 */
import { html } from 'hono/html';

export const CONSOLE_PAGES = ['playground', 'usage', 'keys', 'fine-tuning', 'reference'] as const;
export type ConsolePage = 'home' | (typeof CONSOLE_PAGES)[number];

const TITLES: Record<ConsolePage, string> = {
  home: 'Sign in', playground: 'Playground', usage: 'Usage', keys: 'API keys', 'fine-tuning': 'Fine-tuning', reference: 'API reference',
};

export interface ShellAssets {
  script: { name: string };
  style: { name: string };
}

/** A page's own assets beyond the client's (the reference page's Swagger UI), run before the client script. */
export interface PageAssets {
  script: { name: string };
  style: { name: string };
}

export function renderShell(page: ConsolePage, assets: ShellAssets, auth?: 'keys' | 'open' | 'off', own?: PageAssets): string {
  const link = (target: ConsolePage, href: string) => target === page
    ? html`<a href="${href}" aria-current="page">${TITLES[target]}</a>`
    : html`<a href="${href}">${TITLES[target]}</a>`;
  const page_ = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${TITLES[page]} · edge-maas console</title>
<link rel="icon" href="data:,">
${own ? html`<link rel="stylesheet" href="/console/assets/${own.style.name}">
<script defer src="/console/assets/${own.script.name}"></script>
` : ''}<link rel="stylesheet" href="/console/assets/${assets.style.name}">
<script type="module" src="/console/assets/${assets.script.name}"></script>
</head>
<body data-page="${page}" data-auth="${auth ?? 'unknown'}">
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<a class="brand" href="/">edge-maas</a>
<nav aria-label="Console">
${link('home', '/')}
${link('playground', '/console/playground')}
${link('usage', '/console/usage')}
${link('keys', '/console/keys')}
${link('fine-tuning', '/console/fine-tuning')}
${link('reference', '/console/reference')}
</nav>
<p id="who" class="who" role="status"></p>
</header>
<main id="main" tabindex="-1">
<h1>${TITLES[page]}</h1>
<div id="page"><noscript>The console needs JavaScript; the API itself does not (see the API reference).</noscript></div>
</main>
</body>
</html>
`;
  // Every part is a string, so the template is one (a promise only where a part is one).
  if (page_ instanceof Promise) throw new Error('the console shell rendered asynchronously');
  return String(page_);
}
