// The AWS CDK app, synthesized offline: what each environment's template must hold, and cdk-nag's AwsSolutions
// pack passing (synth throws on any finding not acknowledged with a reason).
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/bin/app.js';

let templates: Record<string, Template>;

beforeAll(() => {
  // Skip esbuild bundling of the router here: the templates are the same but for the asset hash.
  const app = buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [] } }));
  app.synth(); // runs the cdk-nag validation plugin
  templates = Object.fromEntries(['dev', 'prod'].map((stage) => [stage, Template.fromStack(app.node.findChild(stage).node.findChild('EdgeMaas') as Stack)]));
}, 120_000);

type Statement = { Action: string | string[]; Resource: unknown };

describe('the AWS stacks', () => {
  it('run GPU instances from the GPU-optimized ECS AMI through a launch template, one GPU per task', () => {
    const dev = templates.dev!;
    dev.hasResourceProperties('AWS::EC2::LaunchTemplate', { LaunchTemplateData: Match.objectLike({ InstanceType: 'g5.xlarge', MetadataOptions: { HttpTokens: 'required' } }) });
    templates.prod!.hasResourceProperties('AWS::EC2::LaunchTemplate', { LaunchTemplateData: Match.objectLike({ InstanceType: 'g6.xlarge' }) });
    const amiParameters = Object.values(dev.toJSON().Parameters as Record<string, { Type: string; Default: string }>).filter((p) => p.Type.includes('AWS::EC2::Image::Id'));
    expect(amiParameters.map((p) => p.Default)).toEqual([expect.stringMatching(/^\/aws\/service\/ecs\/optimized-ami\/amazon-linux-2023\/gpu\//)]);
    dev.hasResourceProperties('AWS::ECS::TaskDefinition', { ContainerDefinitions: [Match.objectLike({ ResourceRequirements: [{ Type: 'GPU', Value: '1' }] })] });
    dev.hasResourceProperties('AWS::ECS::CapacityProvider', { AutoScalingGroupProvider: Match.objectLike({ ManagedScaling: Match.objectLike({ Status: 'ENABLED' }) }) });
  });

  it('serve vLLM or our own generation server, checked on /health behind HTTPS with a long idle timeout', () => {
    templates.prod!.hasResourceProperties('AWS::ECS::TaskDefinition', { ContainerDefinitions: [Match.objectLike({ Image: 'vllm/vllm-openai:v0.11.0', Command: Match.arrayWith(['--model', 'Qwen/Qwen2.5-1.5B-Instruct']) })] });
    templates.dev!.hasResourceProperties('AWS::ECS::TaskDefinition', { ContainerDefinitions: [Match.objectLike({ Environment: Match.arrayWith([{ Name: 'GEN_EXECUTION_PROVIDER', Value: 'cuda' }]) })] });
    for (const t of Object.values(templates)) {
      t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { HealthCheckPath: '/health', Port: 8000 });
      t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Protocol: 'HTTPS', Port: 443 });
      t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { LoadBalancerAttributes: Match.arrayWith([{ Key: 'idle_timeout.timeout_seconds', Value: '600' }]) });
    }
  });

  it('scale tasks on requests per target, down to zero where the stage allows it', () => {
    templates.dev!.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 0, MaxCapacity: 1 });
    templates.prod!.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 1, MaxCapacity: 4 });
    templates.dev!.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', { PolicyType: 'TargetTrackingScaling', TargetTrackingScalingPolicyConfiguration: Match.objectLike({ PredefinedMetricSpecification: Match.objectLike({ PredefinedMetricType: 'ALBRequestCountPerTarget' }) }) });
    expect(Object.keys(templates.dev!.findResources('AWS::ApplicationAutoScaling::ScalingPolicy', { Properties: { PolicyType: 'StepScaling' } }))).toHaveLength(2);
    expect(Object.keys(templates.prod!.findResources('AWS::ApplicationAutoScaling::ScalingPolicy', { Properties: { PolicyType: 'StepScaling' } }))).toHaveLength(0);
  });

  it('run the router on Lambda (Node.js 24, arm64) behind a streaming Function URL', () => {
    const dev = templates.dev!;
    dev.hasResourceProperties('AWS::Lambda::Function', { Runtime: 'nodejs24.x', Architectures: ['arm64'], Environment: { Variables: Match.objectLike({ GENERATION_UPSTREAM_URL: 'https://gpu.dev.example.com' }) } });
    dev.hasResourceProperties('AWS::Lambda::Url', { InvokeMode: 'RESPONSE_STREAM' });
  });

  it('keep models in a versioned, encrypted, private, TLS-only bucket', () => {
    const buckets = templates.dev!.findResources('AWS::S3::Bucket');
    expect(Object.keys(buckets)).toHaveLength(2);
    for (const bucket of Object.values(buckets) as { Properties: Record<string, any> }[]) {
      expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    }
    templates.dev!.hasResourceProperties('AWS::S3::BucketPolicy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) } });
  });

  it('keep keys and usage in DynamoDB: on demand, point-in-time recovery, encrypted, protected in production', () => {
    for (const [stage, t] of Object.entries(templates)) {
      const tables = Object.values(t.findResources('AWS::DynamoDB::GlobalTable')) as { DeletionPolicy?: string; Properties: Record<string, any> }[];
      expect(tables).toHaveLength(2);
      for (const table of tables) {
        expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
        expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS' });
        expect(table.Properties.Replicas).toHaveLength(1);
        expect(table.Properties.Replicas[0].PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
        expect(table.Properties.Replicas[0].DeletionProtectionEnabled).toBe(stage === 'prod');
        expect(table.DeletionPolicy).toBe(stage === 'prod' ? 'Retain' : 'Delete');
      }
      expect(tables.map((table) => table.Properties.TimeToLiveSpecification?.AttributeName ?? null).sort()).toEqual(['expiresAt', null]);
    }
  });

  it('give the router its tables by name, item access to them and their indexes only, and require API keys', () => {
    const dev = templates.dev!;
    const tableIds = Object.keys(dev.findResources('AWS::DynamoDB::GlobalTable'));
    const fn = Object.values(dev.findResources('AWS::Lambda::Function')).find((f: any) => f.Properties.Environment?.Variables?.BILLING_TABLE) as { Properties: { Role: { 'Fn::GetAtt': string[] }; Environment: { Variables: Record<string, unknown> } } };
    expect(fn.Properties.Environment.Variables).toMatchObject({ EDGE_MAAS_AUTH: 'keys', BILLING_TABLE: { Ref: expect.any(String) }, USAGE_TABLE: { Ref: expect.any(String) } });
    const roleId = fn.Properties.Role['Fn::GetAtt'][0];
    const statements = (Object.values(dev.findResources('AWS::IAM::Policy')) as { Properties: { Roles: { Ref: string }[]; PolicyDocument: { Statement: Statement[] } } }[])
      .filter((p) => p.Properties.Roles.some((r) => r.Ref === roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((st) => [st.Action].flat().some((a) => a.startsWith('dynamodb:')));
    expect(statements).toHaveLength(1);
    expect([statements[0]!.Action].flat().sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
    const resources = JSON.stringify(statements[0]!.Resource);
    expect(resources).not.toContain('*');
    for (const id of tableIds) expect(resources).toContain(id);
  });

  it('grant no wildcard actions on data services (S3, DynamoDB, KMS, SQS, SNS)', () => {
    for (const t of Object.values(templates)) {
      for (const policy of Object.values(t.findResources('AWS::IAM::Policy')) as { Properties: { PolicyDocument: { Statement: Statement[] } } }[]) {
        for (const statement of policy.Properties.PolicyDocument.Statement) {
          for (const action of [statement.Action].flat()) {
            if (/^(s3|dynamodb|kms|sqs|sns):/.test(action)) expect(action, JSON.stringify(statement)).not.toContain('*');
          }
        }
      }
    }
  });

  it('alarm on 5xx rate, unhealthy GPU targets and p99 latency, and keep logs for a set time', () => {
    const dev = templates.dev!;
    for (const metric of ['UnHealthyHostCount', 'TargetResponseTime']) dev.hasResourceProperties('AWS::CloudWatch::Alarm', Match.objectLike({ MetricName: metric }));
    dev.hasResourceProperties('AWS::CloudWatch::Alarm', { Metrics: Match.arrayWith([Match.objectLike({ Expression: Match.stringLikeRegexp('e5 \\+ t5') })]) });
    dev.hasResourceProperties('AWS::CloudWatch::Alarm', { ExtendedStatistic: 'p99', MetricName: 'TargetResponseTime' });
    for (const group of Object.values(dev.findResources('AWS::Logs::LogGroup')) as { Properties: { RetentionInDays?: number } }[]) expect(group.Properties.RetentionInDays).toBe(14);
  });

  it('alarm on throttled or failing DynamoDB calls and on usage records the router could not write', () => {
    const dev = templates.dev!;
    const descriptions = (Object.values(dev.findResources('AWS::CloudWatch::Alarm')) as { Properties: { AlarmDescription: string } }[]).map((a) => a.Properties.AlarmDescription);
    expect(descriptions.filter((d) => /DynamoDB throttles/.test(d))).toHaveLength(2);
    expect(descriptions.filter((d) => /DynamoDB fails/.test(d))).toHaveLength(2);
    dev.hasResourceProperties('AWS::Logs::MetricFilter', { FilterPattern: '"usage write failed"', MetricTransformations: [Match.objectLike({ MetricName: 'UsageWriteFailures' })] });
    dev.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'UsageWriteFailures', Namespace: 'EdgeMaas', Threshold: 1 });
  });
});
