// Fine-tuning's AWS resources (infra/lib/tuning-store.ts) in a bare stack: the table with the indexes the Dynamo
// store queries, the files bucket, the runner function, and what each grant gives; cdk-nag's AwsSolutions checks
// pass on them (synth throws on any finding not acknowledged with a reason).
import { App, type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TUNING_TABLE } from '../../functions/tuning/dynamo/tuning-table.js';
import { TuningStore } from '../../infra/lib/tuning-store.js';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
let template: Template;
let ids: { table: string; bucket: string; runner: string; runnerRole: string; router: string };

beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Tuning', { env: { region: 'us-east-1', account: '123456789012' } });
  const logs = new s3.Bucket(stack, 'Logs', { enforceSSL: true, blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL, encryption: s3.BucketEncryption.S3_MANAGED });
  Validations.of(logs).acknowledge({ id: 'AwsSolutions::AwsSolutions-S1', reason: 'The test stands in for the model store\'s log bucket.' });
  const tuning = new TuningStore(stack, 'TuningStore', { protectData: true, accessLogs: logs, logRetentionDays: 14, billingEnvironment: { BILLING_TABLE: 'b', USAGE_TABLE: 'u' } });
  const router = new iam.Role(stack, 'Router', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  tuning.grantRouter(router);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  app.synth();
  const id = (construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as CfnElement);
  ids = { table: id(tuning.table), bucket: id(tuning.bucket), runner: id(tuning.runner), runnerRole: id(tuning.runner.role!), router: id(router) };
  template = Template.fromStack(stack);
}, 120_000);

const statementsOf = (roleId: string) => Object.values(template.findResources('AWS::IAM::Policy'))
  .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
  .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
const actionsOf = (roleId: string) => statementsOf(roleId).flatMap((s) => [s.Action].flat()).sort();

describe('the fine-tuning resources', () => {
  it('keep records in one on-demand, encrypted, recoverable, protected table with the store\'s indexes', () => {
    const { Properties: table, DeletionPolicy } = template.findResources('AWS::DynamoDB::GlobalTable')[ids.table]!;
    expect(DeletionPolicy).toBe('Retain');
    expect(table.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS' });
    expect(table.Replicas[0].PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table.Replicas[0].DeletionProtectionEnabled).toBe(true);
    expect(table.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }]);
    expect(table.LocalSecondaryIndexes).toEqual([expect.objectContaining({
      IndexName: TUNING_TABLE.localIndex.name, KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'created', KeyType: 'RANGE' }],
    })]);
    expect(table.GlobalSecondaryIndexes).toEqual([expect.objectContaining({
      IndexName: TUNING_TABLE.statusIndex.name, KeySchema: [{ AttributeName: 'status', KeyType: 'HASH' }, { AttributeName: 'created', KeyType: 'RANGE' }],
    })]);
  });

  it('keep file bytes in an encrypted, private, TLS-only, access-logged bucket', () => {
    const { Properties: bucket } = template.findResources('AWS::S3::Bucket')[ids.bucket]!;
    expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    expect(bucket.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(bucket.LoggingConfiguration).toMatchObject({ LogFilePrefix: 'tuning-files/' });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: ids.bucket }, PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('run training in one runner at a time: 3008 MB, 15 minutes, the table, bucket and its own name in its environment', () => {
    const { Properties: fn } = template.findResources('AWS::Lambda::Function')[ids.runner]!;
    expect(fn).toMatchObject({ MemorySize: 3008, Timeout: 900, ReservedConcurrentExecutions: 1, Runtime: 'nodejs24.x', Architectures: ['arm64'], FunctionName: 'Tuning-tuning-runner' });
    expect(fn.Environment.Variables).toMatchObject({
      TUNING_TABLE: { Ref: ids.table }, TUNING_BUCKET: { Ref: ids.bucket }, TUNING_RUNNER_FUNCTION: 'Tuning-tuning-runner', BILLING_TABLE: 'b', USAGE_TABLE: 'u', MODELS_DIR: '/var/task/models',
    });
  });

  it('grant the router and the runner item and object access without wildcard actions, the router the runner\'s invoke', () => {
    const tableActions = ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'];
    const objectActions = ['s3:DeleteObject', 's3:GetObject', 's3:PutObject'];
    expect(actionsOf(ids.router)).toEqual([...tableActions, 'lambda:InvokeFunction', ...objectActions].sort());
    expect(actionsOf(ids.runnerRole)).toEqual([...tableActions, 'lambda:InvokeFunction', 'logs:CreateLogStream', 'logs:PutLogEvents', ...objectActions].sort());
    const tableStatement = statementsOf(ids.router).find((s) => [s.Action].flat().includes('dynamodb:Query'))!;
    const resources = JSON.stringify(tableStatement.Resource);
    for (const index of [TUNING_TABLE.localIndex.name, TUNING_TABLE.statusIndex.name]) expect(resources).toContain(`/index/${index}`);
    expect(resources).not.toContain('index/*');
    const invoke = statementsOf(ids.runnerRole).find((s) => [s.Action].flat().includes('lambda:InvokeFunction'))!;
    expect(JSON.stringify(invoke.Resource)).toContain(':function:Tuning-tuning-runner');
  });
});
