// The route label is remembered per app for paths that are their own pattern: a remembered label must never stand in
// for another app's routes, a parameterised path or a refused one. Hono apps, real.
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from '../../functions/http/request-context.js';
import { routeLabeller } from '../../functions/observability/request-metrics.js';

function labelledApp(routes: string[]): { app: Hono<AppEnv>; labels: string[] } {
  const labels: string[] = [];
  const app = new Hono<AppEnv>();
  const labelOf = routeLabeller();
  app.use('*', async (c, next) => {
    await next();
    labels.push(labelOf(c));
  });
  for (const route of routes) app.get(route, (c) => c.text('ok'));
  return { app, labels };
}

describe('routeLabeller', () => {
  it('labels static paths, parameterised paths and unmatched ones the same on every call', async () => {
    const { app, labels } = labelledApp(['/v1/models', '/v1/models/:id']);
    for (let round = 0; round < 3; round++) {
      for (const path of ['/v1/models', '/v1/models/a', '/v1/models/b', '/nowhere']) await app.request(path);
    }
    expect(labels).toEqual(Array.from({ length: 3 }, () => ['/v1/models', '/v1/models/:id', '/v1/models/:id', 'unmatched']).flat());
  });

  it('keeps one app\'s labels from another app with other routes', async () => {
    const a = labelledApp(['/v1/files']);
    const b = labelledApp(['/v1/files/:id']);
    await a.app.request('/v1/files');
    await b.app.request('/v1/files');
    await a.app.request('/v1/files');
    expect(a.labels).toEqual(['/v1/files', '/v1/files']);
    expect(b.labels).toEqual(['unmatched']);
  });

  it('labels a method the path has no route for as unmatched, after the same path was labelled for GET', async () => {
    const { app, labels } = labelledApp(['/v1/classify']);
    await app.request('/v1/classify');
    await app.request('/v1/classify', { method: 'POST' });
    expect(labels).toEqual(['/v1/classify', 'unmatched']);
  });
});
