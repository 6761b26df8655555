/**
 * A self-contained HTML page that renders the OpenAPI document: no scripts, no CDN, so it works offline and
 * inside any runtime. Each operation shows its summary, request body and responses with their schemas; before
 * them, a live explained classification (explanation-section.ts).
 */
import { escapeHtml } from './escape-html.js';
import { renderExplanationSection, type ExplainedExample } from './explanation-section.js';

type Json = Record<string, unknown>;

function schemaName(schema: unknown): string {
  const ref = (schema as Json | undefined)?.$ref;
  if (typeof ref === 'string') return ref.split('/').pop()!;
  const items = (schema as Json | undefined)?.items;
  return items ? `${schemaName(items)}[]` : String((schema as Json | undefined)?.type ?? 'object');
}

const anchor = (name: string) => `schema-${name.replace(/[^A-Za-z0-9]/g, '')}`;

function schemaLink(schema: unknown): string {
  const name = schemaName(schema);
  const base = name.replace(/(\[\])+$/, '');
  return (schema as Json | undefined)?.$ref || (schema as Json | undefined)?.items
    ? `<a href="#${anchor(base)}"><code>${escapeHtml(name)}</code></a>`
    : `<code>${escapeHtml(name)}</code>`;
}

function jsonBodySchema(content: unknown): unknown {
  return ((content as Json | undefined)?.['application/json'] as Json | undefined)?.schema;
}

function renderOperation(path: string, method: string, op: Json): string {
  const body = jsonBodySchema((op.requestBody as Json | undefined)?.content);
  const responses = Object.entries((op.responses as Json | undefined) ?? {}).map(([status, response]) => {
    const r = response as Json;
    const schema = jsonBodySchema(r.content);
    return `<tr><td>${escapeHtml(status)}</td><td>${escapeHtml(String(r.description ?? ''))}</td><td>${schema ? schemaLink(schema) : ''}</td></tr>`;
  });
  return `<section class="op" id="${escapeHtml(`${method}-${path}`)}">
<h3><span class="method">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h3>
<p>${escapeHtml(String(op.summary ?? ''))}</p>${op.description ? `<p>${escapeHtml(String(op.description))}</p>` : ''}
${body ? `<p>Request body (application/json): ${schemaLink(body)}</p>` : ''}
<table><tr><th>Status</th><th>Meaning</th><th>Body</th></tr>${responses.join('')}</table>
</section>`;
}

export function renderDocsPage(doc: Json, example: ExplainedExample | null = null): string {
  const info = (doc.info as Json | undefined) ?? {};
  const paths = Object.entries((doc.paths as Json | undefined) ?? {});
  const operations = paths.flatMap(([path, item]) => Object.entries(item as Json).map(([method, op]) => renderOperation(path, method, op as Json)));
  const schemas = Object.entries(((doc.components as Json | undefined)?.schemas as Json | undefined) ?? {}).map(
    ([name, schema]) => `<section id="${anchor(name)}"><h3>${escapeHtml(name)}</h3><pre>${escapeHtml(JSON.stringify(schema, null, 2))}</pre></section>`,
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(String(info.title ?? 'API'))} API reference</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
code,pre{font:13px ui-monospace,monospace}pre{background:#f5f5f5;padding:.75rem;overflow:auto}
.op{border-top:1px solid #ddd;padding-top:.5rem}.method{background:#1a1a1a;color:#fff;padding:0 .4rem;border-radius:3px}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
.explained{font-size:1.35rem;line-height:2.2}.word{padding:.1rem .15rem;border-radius:3px}.legend{font-size:13px;color:#444}.request{white-space:pre-wrap}</style>
</head><body>
<h1>${escapeHtml(String(info.title ?? 'API'))} <small>v${escapeHtml(String(info.version ?? ''))}</small></h1>
<p>${escapeHtml(String(info.description ?? ''))}</p>
<p>Machine-readable: <a href="/openapi.json"><code>/openapi.json</code></a> (OpenAPI ${escapeHtml(String(doc.openapi ?? ''))}).</p>
${renderExplanationSection(example)}
<h2>Operations</h2>
${operations.join('\n')}
<h2>Schemas</h2>
${schemas.join('\n')}
</body></html>`;
}
