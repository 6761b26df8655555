/**
 * One route of the route table, declared once with @hono/zod-openapi: its declaration is its OpenAPI operation,
 * its Hono route (so the 405 answers know it) and its request validation. JSON bodies are read by json-body.ts, not
 * by zod-openapi (whose reader knows no gzip, charset, depth or size of the decoded body, and answers aborted uploads
 * as server errors), then checked against the declared schema; queries are checked as c.req.query() reads them (the
 * first of repeated values, as the routes always did). Path parameters are zod-openapi's, with our 400 answer.
 */
import { OpenAPIHono, type Hook, type RouteConfig, type RouteHandler, type z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { readJsonObject } from './json-body.js';
import type { AppEnv } from './request-context.js';
import { invalidInput, parseBody } from './validate.js';

/** Routes declared together (one concern), mounted into the app at "/": their paths are whole. */
export type RouteGroup = OpenAPIHono<AppEnv>;

export interface ApiRoute extends RouteConfig {
  /** Hono's pattern for the path where the OpenAPI path cannot say it (a parameter that may hold slashes). */
  routingPath?: string;
}

/** A route's handler: its context knows the declared params, query and body (`c.req.valid(...)`). */
export type ApiHandler<R extends RouteConfig> = (c: Parameters<RouteHandler<R, AppEnv>>[0]) => Response | Promise<Response>;

const answerInvalid: Hook<unknown, AppEnv, string, void> = (result) => {
  if (!result.success) throw invalidInput(result.error);
};

export const routeGroup = (): RouteGroup => new OpenAPIHono<AppEnv>({ defaultHook: answerInvalid });

const isSchema = (schema: unknown): schema is z.ZodType => typeof (schema as z.ZodType | undefined)?.safeParse === 'function';

/** The checks of the parts this module reads itself: the query, and a JSON body. */
function ownValidators(request: RouteConfig['request']): MiddlewareHandler<AppEnv>[] {
  const validators: MiddlewareHandler<AppEnv>[] = [];
  const query = request?.query;
  if (query) {
    validators.push(async (c, next) => {
      c.req.addValidatedData('query', parseBody(query, c.req.query()) as object);
      await next();
    });
  }
  const media = request?.body?.content['application/json'];
  const body = media && 'schema' in media ? media.schema : undefined;
  if (isSchema(body)) {
    validators.push(async (c, next) => {
      const json = await readJsonObject(c);
      c.set('jsonBody', json);
      c.req.addValidatedData('json', parseBody(body, json) as object);
      await next();
    });
  }
  return validators;
}

export function declareRoute<R extends ApiRoute>(group: RouteGroup, route: R, handler: ApiHandler<R>): void {
  const { routingPath, middleware, hide, ...operation } = route;
  if (!hide) group.openAPIRegistry.registerPath(operation);
  const { body: _readByUs, query: _checkedByUs, ...checkedByZodOpenApi } = route.request ?? {};
  const before = middleware === undefined ? [] : Array.isArray(middleware) ? middleware : [middleware];
  group.openapi(
    { ...operation, path: routingPath ?? operation.path, request: checkedByZodOpenApi, hide: true, middleware: [...before, ...ownValidators(route.request)] },
    handler as never,
  );
}
