// What each construct's grant method gives (issue 18, item 6): the stack says who may use what through the owners'
// grant methods, and each gives its grantee what the router or the GPU tasks need and nothing more. Each grant is
// made to a role of its own in a bare stack, so that the statements seen are that grant's alone.
import { App, type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { BillingTables } from '../../infra/lib/billing-tables.js';
import { GpuEndpoint } from '../../infra/lib/gpu-endpoint.js';
import { GENERATION_PORT } from '../../infra/lib/generation-port.js';
import { ModelStore } from '../../infra/lib/model-store.js';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

/** A bare stack and a role in it; `statements()` lists what the role's policies allow once the grant is made. */
function grantee() {
  const stack = new Stack(new App(), 'Grants', { env: { region: 'us-east-1' } });
  const role = new iam.Role(stack, 'Grantee', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  const id = (construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as CfnElement);
  const statements = () => Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === id(role)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
  return { stack, role, statements, id };
}

describe('grant methods', () => {
  it('ModelStore.grantRead: GetObject on the model objects and ListBucket on the bucket, no wildcard action', () => {
    const { stack, role, statements, id } = grantee();
    const store = new ModelStore(stack, 'ModelStore', { logRetentionDays: 14 });
    store.grantRead(role);
    const bucket = id(store.bucket);
    expect(statements()).toEqual([
      { Effect: 'Allow', Action: 's3:GetObject', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/*']] } },
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [bucket, 'Arn'] } },
    ]);
  });

  it('BillingTables.grantReadWrite: item reads, writes and queries on both tables and their named indexes only', () => {
    const { stack, role, statements, id } = grantee();
    const tables = new BillingTables(stack, 'BillingTables', { protectData: false });
    tables.grantReadWrite(role);
    const [statement, ...more] = statements();
    expect(more).toEqual([]);
    expect([statement!.Action].flat().sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
    const resources = JSON.stringify(statement!.Resource);
    expect(resources).not.toContain('*');
    for (const table of [tables.billing, tables.usage]) expect(resources).toContain(id(table));
    expect(resources).toContain('/index/');
  });

  it('GpuEndpoint.grantInvoke: reading the upstream key that the listener forwards requests with, nothing else', () => {
    const { stack, role, statements, id } = grantee();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
    const store = new ModelStore(stack, 'ModelStore', { logRetentionDays: 14 });
    const endpoint = new GpuEndpoint(stack, 'Endpoint', {
      vpc, port: GENERATION_PORT, accessLogs: store.accessLogs, deregistrationDelay: Duration.seconds(30), wafRequestsPer5Min: 100,
      certificate: acm.Certificate.fromCertificateArn(stack, 'Certificate', 'arn:aws:acm:us-east-1:111111111111:certificate/1b4e28ba-2fa1-41d2-883f-0016d3cca427'),
    });
    endpoint.grantInvoke(role);
    expect(statements()).toEqual([
      { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: { Ref: id(endpoint.upstreamKey) } },
    ]);
  });
});
