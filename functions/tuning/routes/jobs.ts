/**
 * The fine-tuning jobs API in OpenAI's shape: POST /v1/fine_tuning/jobs, GET /v1/fine_tuning/jobs, GET
 * /v1/fine_tuning/jobs/{id}, POST /v1/fine_tuning/jobs/{id}/cancel, GET /v1/fine_tuning/jobs/{id}/events (a list,
 * or server-sent events with ?stream=true or Accept: text/event-stream). The job service does the work and the
 * checks of what a request names (base model, files, ranges); these routes check shapes, scope by tenant and answer.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { invalidRequest } from '../../http/errors.js';
import { badRequestResponse, ErrorBody, jsonResponse } from '../../http/openapi-responses.js';
import { declareRoute, routeGroup, type RouteGroup } from '../../http/route-declaration.js';
import type { Page } from '../tuning-store.js';
import type { JobEvent, JobRecord, JobStatus } from '../tuning-types.js';
import { DEFAULT_EVENT_STREAM, jobEventStream, lastEventSeq, type EventStreamOptions } from './event-stream.js';
import { cursorPage, eventObject, jobObject } from './openai-objects.js';
import { DEFAULT_JOBS_PAGE, EventList, EventsQuery, JobCreateRequest, JobId, JobList, JobObject, PageQuery } from './schemas.js';
import { caller, callerTenant } from './tenant.js';

type RequestedHyperparameters = z.output<typeof JobCreateRequest>['hyperparameters'];

/** What the routes ask of the job service (jobs/fine-tuning-service.ts), in OpenAI's request field names. */
export interface FineTuningJobs {
  createJob(
    caller: { tenantId: string; keyId: string | null },
    request: { model: string; training_file: string; validation_file?: string | null; hyperparameters?: RequestedHyperparameters | null; suffix?: string | null; seed?: number | null },
  ): Promise<JobRecord>;
  /** The tenant's job; throws the 404 for another tenant's or an unknown id. */
  getJob(tenantId: string, id: string): Promise<JobRecord>;
  /** Newest first. */
  listJobs(tenantId: string, page: Page): Promise<JobRecord[]>;
  /** Throws the 409 for a finished job. */
  cancelJob(tenantId: string, id: string): Promise<JobRecord>;
  /** Newest first. */
  listEvents(tenantId: string, jobId: string, page: Page): Promise<JobEvent[]>;
  /** Oldest first. */
  eventsAfter(tenantId: string, jobId: string, seq: number): Promise<JobEvent[]>;
  /** This process's new events of the job, with its status once each was written. */
  subscribe(jobId: string, listener: (event: JobEvent, status: JobStatus) => void): () => void;
}

export interface JobRouteDeps {
  service: FineTuningJobs;
  events?: EventStreamOptions;
  /** Aborted when the server shuts down: open event streams end (event: shutdown) instead of holding the drain. */
  shutdown?: AbortSignal;
}

const jobParams = z.object({ fine_tuning_job_id: JobId });
const notFoundResponse = jsonResponse(ErrorBody, 'No such job of yours.');

const create = createRoute({
  method: 'post', path: '/v1/fine_tuning/jobs', summary: 'Fine-tune a classifier on a training file (OpenAI fine-tuning API)',
  description: 'Trains a classification head over a feature-extraction base model; the job is queued and runs in the background.',
  request: { body: { required: true, content: { 'application/json': { schema: JobCreateRequest } } } },
  responses: {
    200: jsonResponse(JobObject, 'The job, queued.'),
    400: badRequestResponse,
    402: jsonResponse(ErrorBody, "The training's cost does not fit in the key's budget."),
    404: jsonResponse(ErrorBody, 'Unknown base model, or no such file of yours (error.param names which).'),
    413: jsonResponse(ErrorBody, 'The body is over the size limit.'),
    415: jsonResponse(ErrorBody, 'The body is not application/json.'),
  },
});

const list = createRoute({
  method: 'get', path: '/v1/fine_tuning/jobs', summary: 'Your fine-tuning jobs, newest first', request: { query: PageQuery },
  responses: { 200: jsonResponse(JobList, 'A page of jobs.'), 400: badRequestResponse },
});

const retrieve = createRoute({
  method: 'get', path: '/v1/fine_tuning/jobs/{fine_tuning_job_id}', summary: 'One fine-tuning job', request: { params: jobParams },
  responses: { 200: jsonResponse(JobObject, 'The job.'), 404: notFoundResponse },
});

const cancel = createRoute({
  method: 'post', path: '/v1/fine_tuning/jobs/{fine_tuning_job_id}/cancel', summary: 'Cancel a queued or running job', request: { params: jobParams },
  responses: { 200: jsonResponse(JobObject, 'The job, cancelled (a running one once its run stops).'), 404: notFoundResponse, 409: jsonResponse(ErrorBody, 'The job has already finished.') },
});

const events = createRoute({
  method: 'get', path: '/v1/fine_tuning/jobs/{fine_tuning_job_id}/events', summary: "A job's events: a list, or a server-sent event stream",
  request: { params: jobParams, query: EventsQuery },
  responses: {
    200: {
      description: 'Newest first as a list; as server-sent events (?stream=true or Accept: text/event-stream) oldest first, each with id: <seq> '
        + '(send Last-Event-ID to resume), live ones as they come, then "event: done" with the finished job.',
      content: { 'application/json': { schema: EventList }, 'text/event-stream': { schema: z.string() } },
    },
    400: badRequestResponse,
    404: notFoundResponse,
  },
});

/** OpenAI's newer clients send the hyperparameters under method.supervised; older ones at the top level. */
function hyperparametersOf(request: z.output<typeof JobCreateRequest>): RequestedHyperparameters {
  const nested = request.method?.supervised?.hyperparameters;
  if (nested && request.hyperparameters) {
    throw invalidRequest('give the hyperparameters at the top level or under method.supervised, not both', 'hyperparameters');
  }
  return nested ?? request.hyperparameters;
}

export function jobRoutes({ service, events: streamDefaults = DEFAULT_EVENT_STREAM, shutdown }: JobRouteDeps): RouteGroup {
  const streamOptions: EventStreamOptions = { ...streamDefaults, shutdown: shutdown ?? streamDefaults.shutdown };
  const group = routeGroup();

  declareRoute(group, create, async (c) => {
    const request = c.req.valid('json');
    const hyperparameters = hyperparametersOf(request);
    await c.get('admit')({ tokens: 0, costMicroUsd: 0 });
    const job = await service.createJob(caller(c), {
      model: request.model, training_file: request.training_file, validation_file: request.validation_file,
      hyperparameters, suffix: request.suffix, seed: request.seed,
    });
    return c.json(jobObject(job), 200);
  });

  declareRoute(group, list, async (c) => {
    const query = c.req.valid('query');
    const limit = query.limit ?? DEFAULT_JOBS_PAGE;
    const rows = await service.listJobs(callerTenant(c), { after: query.after, limit: limit + 1 });
    return c.json(cursorPage(rows, limit, jobObject), 200);
  });

  declareRoute(group, retrieve, async (c) => c.json(jobObject(await service.getJob(callerTenant(c), c.req.valid('param').fine_tuning_job_id)), 200));

  declareRoute(group, cancel, async (c) => {
    const id = c.req.valid('param').fine_tuning_job_id;
    await c.get('admit')({ tokens: 0, costMicroUsd: 0 });
    return c.json(jobObject(await service.cancelJob(callerTenant(c), id)), 200);
  });

  declareRoute(group, events, async (c) => {
    const id = c.req.valid('param').fine_tuning_job_id;
    const query = c.req.valid('query');
    const tenantId = callerTenant(c);
    const streamed = query.stream === 'true' || (query.stream === undefined && /\btext\/event-stream\b/i.test(c.req.header('accept') ?? ''));
    if (!streamed) {
      const limit = query.limit ?? DEFAULT_JOBS_PAGE;
      const rows = await service.listEvents(tenantId, id, { after: query.after, limit: limit + 1 });
      return c.json(cursorPage(rows, limit, eventObject), 200);
    }
    await service.getJob(tenantId, id); // another tenant's job: the 404, before any stream starts
    const fromSeq = lastEventSeq(c.req.header('last-event-id'));
    if (fromSeq === null) throw invalidRequest('the Last-Event-ID header must be the id (a non-negative integer) of an event this stream sent', 'Last-Event-ID');
    const source = {
      eventsAfter: (seq: number) => service.eventsAfter(tenantId, id, seq),
      job: () => service.getJob(tenantId, id),
      subscribe: (listener: Parameters<FineTuningJobs['subscribe']>[1]) => service.subscribe(id, listener),
    };
    const body = jobEventStream(fromSeq, source, streamOptions);
    return new Response(body, {
      status: 200,
      headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' },
    });
  });

  return group;
}
