// The router function's cost settings, synthesized offline: its memory (the cost model's choice) and JSON logs with
// Lambda's own lines at WARN, and the cost bench reading the same values the template holds.
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { beforeAll, describe, expect, it } from 'vitest';
import { routerConfig } from '../../bench/cost/aws/measure-aws.js';
import { platformLinesLogged } from '../../bench/cost/cost-model.js';
import { RouterFunction } from '../../infra/lib/router-function.js';

let fn: Record<string, any>;

beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'RouterOnly', { env: { account: '123456789012', region: 'us-east-1' } });
  new RouterFunction(stack, 'Router', {
    generationUrl: 'https://gpu.example.com', registryOverlay: { models: [] },
    upstreamKey: new secretsmanager.Secret(stack, 'Key'), logRetentionDays: 14,
  });
  const functions = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')) as { Properties: Record<string, any> }[];
  fn = functions.find((f) => f.Properties.Handler === 'index.handler')!.Properties;
}, 120_000);

describe('the router function\'s cost settings', () => {
  it('runs at 1,024 MB with JSON logs whose Lambda lines (START, END, REPORT) are at WARN, and keeps the router\'s own', () => {
    expect(fn.MemorySize).toBe(1024);
    expect(fn.LoggingConfig).toEqual(expect.objectContaining({ LogFormat: 'JSON', SystemLogLevel: 'WARN', ApplicationLogLevel: 'INFO' }));
  });

  it('is what the cost bench prices: the same memory and architecture, and no platform lines', async () => {
    const config = await routerConfig();
    expect(config).toEqual({ memoryMb: fn.MemorySize, architecture: fn.Architectures[0], systemLogLevel: fn.LoggingConfig.SystemLogLevel });
    expect(platformLinesLogged(config)).toBe(false);
  });
});
