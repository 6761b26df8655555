/**
 * Timeouts that must outlast the router's own: the router ends a stream itself (and writes its usage) when its
 * total timeout passes, so neither Lambda nor the load balancer may cut the stream first.
 */
import { Duration } from 'aws-cdk-lib';
import { DEFAULT_UPSTREAM_POLICY } from '../../functions/upstream/upstream-client.js';

const policy = DEFAULT_UPSTREAM_POLICY;

/** The longest one upstream attempt may take: the router's total timeout. */
export const ROUTER_TOTAL_TIMEOUT = Duration.millis(policy.totalTimeoutMs);

/**
 * The router Lambda: every attempt the router may make (a non-streamed answer is awaited whole before it is
 * committed, so a retry after a timed-out attempt starts a second full attempt), plus a minute for key checks,
 * rate limits and the usage write after the stream ends.
 */
export const ROUTER_LAMBDA_TIMEOUT = Duration.seconds(
  Math.ceil(((policy.retries + 1) * (policy.totalTimeoutMs + policy.backoffMs * 2 ** policy.retries)) / 1000) + 60,
);

/** How long a deregistered GPU target keeps serving its streams (scale-in, deploys): a full stream and then some. */
export const STREAM_DRAIN = Duration.seconds(policy.totalTimeoutMs / 1000 + 30);
