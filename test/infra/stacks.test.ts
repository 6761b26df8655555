// The AWS CDK app, synthesized offline: what each environment's template must hold, and cdk-nag's AwsSolutions
// pack passing (synth throws on any finding not acknowledged with a reason).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { App, Stack, Stage } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/bin/app.js';
import { STAGES } from '../../infra/lib/config.js';
import { EdgeMaasStack } from '../../infra/lib/edge-maas-stack.js';
import { GENERATION_PORT } from '../../infra/lib/generation-port.js';
import { DEFAULT_UPSTREAM_POLICY } from '../../functions/upstream/upstream-client.js';
import { Registry } from '../../functions/registry/registry.js';
import { applyRegistryOverlay } from '../../functions/lambda/stage-setup.js';
import { repoRoot } from '../paths.js';

// Skip esbuild bundling of the router here: the templates are the same but for the asset hash.
const noBundling = { 'aws:cdk:bundling-stacks': [] };
let templates: Record<string, Template>;
let assemblyDir: string;

beforeAll(() => {
  const app = buildApp(new App({ context: noBundling }));
  assemblyDir = app.synth().directory; // runs the cdk-nag validation plugin
  templates = Object.fromEntries(['dev', 'prod'].map((stage) => [stage, Template.fromStack(app.node.findChild(stage).node.findChild('EdgeMaas') as Stack)]));
}, 180_000);

type Statement = { Action: string | string[]; Resource: unknown };
type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string };
const resources = (t: Template, type: string) => Object.entries(t.findResources(type)) as [string, Resource][];
const only = (t: Template, type: string): [string, Resource] => {
  const found = resources(t, type);
  expect(found, type).toHaveLength(1);
  return found[0]!;
};
const container = (t: Template) => only(t, 'AWS::ECS::TaskDefinition')[1].Properties.ContainerDefinitions[0];
const router = (t: Template) => resources(t, 'AWS::Lambda::Function').find(([, f]) => f.Properties.Environment?.Variables?.BILLING_TABLE)![1];
const statementsOf = (t: Template, roleId: string) => resources(t, 'AWS::IAM::Policy')
  .filter(([, p]) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleId))
  .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
const secretId = (t: Template) => only(t, 'AWS::SecretsManager::Secret')[0];
/** The Docker images dev's assembly builds (the edge-maas generation server's), as its asset manifest lists them. */
const devDockerImages = async () => {
  const dir = join(assemblyDir, 'assembly-dev');
  const name = (await readdir(dir)).find((f) => f.endsWith('.assets.json'))!;
  const manifest = JSON.parse(await readFile(join(dir, name), 'utf8')) as { dockerImages: Record<string, { source: { platform?: string; dockerBuildArgs?: Record<string, string> } }> };
  return Object.values(manifest.dockerImages);
};
/** The alarm behind a step scaling policy: the one whose actions name it. */
const alarmOfPolicy = (t: Template, policyId: string) => resources(t, 'AWS::CloudWatch::Alarm').find(([, a]) => JSON.stringify(a.Properties.AlarmActions ?? []).includes(policyId))![1];

describe('the AWS stacks', () => {
  it('run GPU instances from the GPU-optimized ECS AMI through a launch template, one GPU per task, with a fallback instance type', () => {
    const dev = templates.dev!;
    dev.hasResourceProperties('AWS::EC2::LaunchTemplate', { LaunchTemplateData: Match.objectLike({ InstanceType: 'g5.xlarge', MetadataOptions: { HttpTokens: 'required' } }) });
    dev.hasResourceProperties('AWS::EC2::LaunchTemplate', { LaunchTemplateData: Match.objectLike({ BlockDeviceMappings: [Match.objectLike({ Ebs: Match.objectLike({ Encrypted: true }) })] }) });
    const amiParameters = Object.values(dev.toJSON().Parameters as Record<string, { Type: string; Default: string }>).filter((p) => p.Type.includes('AWS::EC2::Image::Id'));
    expect(amiParameters.map((p) => p.Default)).toEqual([expect.stringMatching(/^\/aws\/service\/ecs\/optimized-ami\/amazon-linux-2023\/gpu\//)]);
    dev.hasResourceProperties('AWS::ECS::TaskDefinition', { ContainerDefinitions: [Match.objectLike({ ResourceRequirements: [{ Type: 'GPU', Value: '1' }] })] });
    dev.hasResourceProperties('AWS::ECS::CapacityProvider', { AutoScalingGroupProvider: Match.objectLike({ ManagedScaling: Match.objectLike({ Status: 'ENABLED' }) }) });
    for (const [stage, t] of Object.entries(templates)) {
      const policy = only(t, 'AWS::AutoScaling::AutoScalingGroup')[1].Properties.MixedInstancesPolicy;
      expect(policy.LaunchTemplate.Overrides.map((o: { InstanceType: string }) => o.InstanceType)).toEqual(STAGES[stage]!.instanceTypes);
      expect(policy.InstancesDistribution.OnDemandAllocationStrategy).toBe('prioritized');
    }
  });

  it('serve vLLM or our own generation server, checked on /health behind HTTPS with a long idle timeout', () => {
    expect(container(templates.prod!).Command).toEqual(expect.arrayContaining(['--served-model-name', 'qwen2.5-1.5b-instruct']));
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

  it('keep models in a versioned, encrypted, private, TLS-only bucket whose old versions expire', () => {
    const buckets = resources(templates.dev!, 'AWS::S3::Bucket');
    expect(buckets).toHaveLength(3); // models, access logs, fine-tuning files (tuning-store.test.ts)
    for (const [, bucket] of buckets) {
      expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      // Versioned buckets otherwise keep every overwritten model and log forever (item 13).
      expect(bucket.Properties.LifecycleConfiguration.Rules).toEqual([expect.objectContaining({ Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: expect.any(Number) }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } })]);
    }
    templates.dev!.hasResourceProperties('AWS::S3::BucketPolicy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) } });
  });

  it('keep keys and usage in DynamoDB: on demand, point-in-time recovery, encrypted, protected in production', () => {
    for (const [stage, t] of Object.entries(templates)) {
      const tables = resources(t, 'AWS::DynamoDB::GlobalTable').filter(([id]) => id.startsWith('BillingTables')).map(([, table]) => table);
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
    const tableIds = Object.keys(dev.findResources('AWS::DynamoDB::GlobalTable')).filter((id) => id.startsWith('BillingTables'));
    const fn = router(dev);
    expect(fn.Properties.Environment.Variables).toMatchObject({ EDGE_MAAS_AUTH: 'keys', BILLING_TABLE: { Ref: expect.any(String) }, USAGE_TABLE: { Ref: expect.any(String) } });
    const statements = statementsOf(dev, fn.Properties.Role['Fn::GetAtt'][0])
      .filter((st) => [st.Action].flat().some((a) => a.startsWith('dynamodb:')) && JSON.stringify(st.Resource).includes('BillingTables'));
    expect(statements).toHaveLength(1);
    expect([statements[0]!.Action].flat().sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
    const tableResources = JSON.stringify(statements[0]!.Resource);
    expect(tableResources).not.toContain('*');
    for (const id of tableIds) expect(tableResources).toContain(id);
  });

  it('grant no wildcard actions on data services (S3, DynamoDB, KMS, SQS, SNS, Secrets Manager)', () => {
    for (const t of Object.values(templates)) {
      for (const [, policy] of resources(t, 'AWS::IAM::Policy')) {
        for (const statement of policy.Properties.PolicyDocument.Statement as Statement[]) {
          for (const action of [statement.Action].flat()) {
            if (/^(s3|dynamodb|kms|sqs|sns|secretsmanager):/.test(action)) expect(action, JSON.stringify(statement)).not.toContain('*');
          }
        }
      }
    }
  });

  it('alarm on throttled or failing DynamoDB calls and on usage records the router could not write, and keep logs for a set time', () => {
    const dev = templates.dev!;
    const descriptions = resources(dev, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties.AlarmDescription as string);
    expect(descriptions.filter((d) => /DynamoDB throttles/.test(d))).toHaveLength(2);
    expect(descriptions.filter((d) => /DynamoDB fails/.test(d))).toHaveLength(2);
    dev.hasResourceProperties('AWS::Logs::MetricFilter', { FilterPattern: '"usage write failed"', MetricTransformations: [Match.objectLike({ MetricName: 'UsageWriteFailures' })] });
    dev.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'UsageWriteFailures', Namespace: 'EdgeMaas', Threshold: 1 });
    for (const [, group] of resources(dev, 'AWS::Logs::LogGroup')) expect(group.Properties.RetentionInDays).toBe(14);
  });
});

describe('issue 19: a first deploy that works, closed to strangers', () => {
  it('2. the router asks each stage\'s GPU server for a model under the name that server serves it by', async () => {
    const base = Registry.parse(JSON.parse(await readFile(join(repoRoot, 'models', 'registry.json'), 'utf8')));
    for (const [stage, t] of Object.entries(templates)) {
      const env = router(t).Properties.Environment.Variables as Record<string, string>;
      const registry = applyRegistryOverlay(base.withEmbeddedUpstream(env.GENERATION_UPSTREAM_URL!), env.REGISTRY_OVERLAY);
      const c = container(t);
      const args = (c.Command ?? []) as string[];
      const served = STAGES[stage]!.image.kind === 'vllm'
        ? [args[args.indexOf('--served-model-name') + 1] ?? args[args.indexOf('--model') + 1]]
        : [(c.Environment as { Name: string; Value: string }[]).find((e) => e.Name === 'GEN_MODEL_ID')?.Value ?? 'stories260K'];
      const generation = registry.models.filter((m) => m.runtime === 'gpu-upstream');
      expect(generation.length, stage).toBeGreaterThan(0);
      for (const model of generation) {
        for (const upstream of model.upstreams) {
          expect(upstream.url, `${stage} ${model.id}`).toBe(env.GENERATION_UPSTREAM_URL);
          expect(served, `${stage} ${model.id}`).toContain(upstream.model);
          // Pinned keys: the GPU service and the router are in the stage's jurisdiction (both stages: us-east-1).
          expect(upstream.region, `${stage} ${model.id}`).toBe('us');
        }
      }
      expect(env.EDGE_MAAS_REGION, stage).toBe('us');
      const entry = registry.resolve(STAGES[stage]!.generation.id)!;
      expect(entry.maxTokens).toBe(STAGES[stage]!.generation.maxTokens);
      expect(entry.price).toEqual(STAGES[stage]!.generation.price);
    }
  });

  it('3. the GPU endpoint forwards only requests that carry the upstream key, which vLLM and the router share, behind a WAF rate rule', () => {
    for (const [stage, t] of Object.entries(templates)) {
      const key = secretId(t);
      const [, listener] = only(t, 'AWS::ElasticLoadBalancingV2::Listener');
      expect(listener.Properties.DefaultActions).toEqual([{ Type: 'fixed-response', FixedResponseConfig: expect.objectContaining({ StatusCode: '403' }) }]);
      const [, rule] = only(t, 'AWS::ElasticLoadBalancingV2::ListenerRule');
      expect(rule.Properties.Actions).toEqual([expect.objectContaining({ Type: 'forward' })]);
      expect(rule.Properties.Conditions).toEqual([{
        Field: 'http-header',
        HttpHeaderConfig: { HttpHeaderName: 'Authorization', Values: [{ 'Fn::Join': ['', ['Bearer {{resolve:secretsmanager:', { Ref: key }, ':SecretString:::}}']] }] },
      }]);
      const fn = router(t);
      expect(fn.Properties.Environment.Variables.UPSTREAM_KEY_SECRET_ARN).toEqual({ Ref: key });
      const reads = statementsOf(t, fn.Properties.Role['Fn::GetAtt'][0]).filter((st) => [st.Action].flat().includes('secretsmanager:GetSecretValue'));
      expect(reads.map((st) => st.Resource)).toEqual([{ Ref: key }]);
      const [, acl] = only(t, 'AWS::WAFv2::WebACL');
      expect(acl.Properties.Scope).toBe('REGIONAL');
      expect(acl.Properties.Rules).toEqual([expect.objectContaining({ Action: { Block: {} }, Statement: { RateBasedStatement: expect.objectContaining({ AggregateKeyType: 'IP', Limit: STAGES[stage]!.wafRequestsPer5Min }) } })]);
      const [albId] = only(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
      t.hasResourceProperties('AWS::WAFv2::WebACLAssociation', { ResourceArn: { Ref: albId } });
    }
    expect(container(templates.prod!).Secrets).toEqual([{ Name: 'VLLM_API_KEY', ValueFrom: { Ref: secretId(templates.prod!) } }]);
  });

  it('4. dev\'s idle alarm reads no requests as zero requests, so the service goes back to zero', () => {
    const dev = templates.dev!;
    const [policyId] = resources(dev, 'AWS::ApplicationAutoScaling::ScalingPolicy').find(([id]) => id.includes('SleepWhenIdle'))!;
    const alarm = alarmOfPolicy(dev, policyId);
    expect(alarm.Properties.ComparisonOperator).toBe('LessThanOrEqualToThreshold');
    expect(alarm.Properties.TreatMissingData).toBe('breaching');
    const expressions = (alarm.Properties.Metrics as { Expression?: string }[]).filter((m) => m.Expression).map((m) => m.Expression);
    expect(expressions).toEqual([expect.stringMatching(/^FILL\(routed, 0\) \+ FILL\(refused, 0\)$/)]);
  });

  it('5. prod survives its first start: grace period, weights from S3 through a gateway endpoint, the image through ECR', () => {
    for (const [stage, t] of Object.entries(templates)) {
      const [, service] = only(t, 'AWS::ECS::Service');
      expect(service.Properties.HealthCheckGracePeriodSeconds, stage).toBe(STAGES[stage]!.taskStartSeconds);
      expect(service.Properties.HealthCheckGracePeriodSeconds, stage).toBeGreaterThanOrEqual(600);
      expect(container(t).HealthCheck.StartPeriod, stage).toBeLessThanOrEqual(300); // ECS refuses more
      t.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway', ServiceName: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith(['.s3'])] }) });
    }
    const prod = templates.prod!;
    const [bucketId] = resources(prod, 'AWS::S3::Bucket').find(([id]) => id.startsWith('ModelStoreModels'))!;
    const c = container(prod);
    const image = STAGES.prod!.image;
    expect(c.Command).toEqual(expect.arrayContaining(['--load-format', 'runai_streamer']));
    expect(c.Command[c.Command.indexOf('--model') + 1]).toEqual({ 'Fn::Join': ['', ['s3://', { Ref: bucketId }, `/${image.model}/${image.revision}/`]] });
    const uri = JSON.stringify(c.Image);
    expect(uri).toContain('.dkr.ecr.');
    expect(uri).toContain(`/prod-docker-hub/vllm/vllm-openai@${image.vllmDigest}`);
    prod.hasResourceProperties('AWS::ECR::PullThroughCacheRule', { EcrRepositoryPrefix: 'prod-docker-hub', UpstreamRegistryUrl: 'registry-1.docker.io', CredentialArn: image.dockerHubSecretArn });
  });

  it('7. neither Lambda nor the load balancer cuts a stream before the router ends it', () => {
    const total = DEFAULT_UPSTREAM_POLICY.totalTimeoutMs / 1000;
    for (const t of Object.values(templates)) {
      expect(router(t).Properties.Timeout).toBeGreaterThan(total * (DEFAULT_UPSTREAM_POLICY.retries + 1));
      expect(router(t).Properties.Timeout).toBeLessThanOrEqual(900);
      const [, group] = only(t, 'AWS::ElasticLoadBalancingV2::TargetGroup');
      const delay = (group.Properties.TargetGroupAttributes as { Key: string; Value: string }[]).find((a) => a.Key === 'deregistration_delay.timeout_seconds');
      expect(Number(delay?.Value)).toBeGreaterThan(total);
    }
  });

  it('8. prod deploys keep every task serving until its replacement is healthy, with room for the replacements', () => {
    for (const [stage, t] of Object.entries(templates)) {
      const config = STAGES[stage]!;
      const { DeploymentConfiguration } = only(t, 'AWS::ECS::Service')[1].Properties;
      expect(DeploymentConfiguration.MinimumHealthyPercent).toBe(stage === 'prod' ? 100 : 0);
      expect(DeploymentConfiguration.MaximumPercent).toBe(200);
      expect(Number(only(t, 'AWS::AutoScaling::AutoScalingGroup')[1].Properties.MaxSize)).toBe(stage === 'prod' ? 2 * config.maxCapacity : config.maxCapacity);
    }
  });

  it('9. the generation image is built for linux/amd64, the GPU instances\' CPU', async () => {
    const images = await devDockerImages();
    expect(images).toHaveLength(1);
    expect(images[0]!.source.platform).toBe('linux/amd64');
  });

  it('2-3. the stack outputs what the edge Worker needs to reach the same GPU service: its models and the key\'s secret', () => {
    for (const t of Object.values(templates)) {
      expect(JSON.stringify(t.toJSON().Outputs.RegistryOverlay.Value)).toMatch(/upstreams/);
      expect(t.toJSON().Outputs.UpstreamKeySecret.Value).toBeDefined();
    }
  });

  it('10. alarms reach someone and are not noise: topic output, capacity failures, stuck tasks, a budget, no p99 alarms', () => {
    for (const [stage, t] of Object.entries(templates)) {
      const [topicId] = only(t, 'AWS::SNS::Topic');
      expect(t.toJSON().Outputs.AlarmTopicArn.Value).toEqual({ Ref: topicId });
      const alarms = resources(t, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
      expect(alarms.filter((a) => a.ExtendedStatistic === 'p99')).toEqual([]);
      expect(alarms.filter((a) => a.MetricName === 'TargetResponseTime' || a.MetricName === 'Duration')).toEqual([]);
      const stuck = alarms.find((a) => /stuck in PROVISIONING/.test(a.AlarmDescription))!;
      expect(JSON.stringify(stuck.Metrics)).toContain('DesiredTaskCount');
      expect(stuck.EvaluationPeriods * 300).toBeGreaterThan(STAGES[stage]!.wakeSeconds);
      const rate = alarms.find((a) => /5xx/.test(a.AlarmDescription))!;
      const expression = (rate.Metrics as { Expression?: string }[]).find((m) => m.Expression)!.Expression!;
      // A scale-to-zero stage's cold start answers 503 by design; an always-on stage's 503 is an outage.
      expect(expression.includes('e503'), stage).toBe(stage === 'dev');
      const rules = resources(t, 'AWS::Events::Rule').map(([, r]) => r.Properties);
      expect(rules.map((r) => r.EventPattern['detail-type'][0]).sort()).toEqual(['EC2 Instance Launch Unsuccessful', 'ECS Service Action']);
      for (const r of rules) expect(r.Targets).toEqual([expect.objectContaining({ Arn: { Ref: topicId } })]);
      t.hasResourceProperties('AWS::Budgets::Budget', {
        Budget: Match.objectLike({ BudgetType: 'COST', TimeUnit: 'MONTHLY', BudgetLimit: { Amount: STAGES[stage]!.monthlyBudgetUsd, Unit: 'USD' } }),
        NotificationsWithSubscribers: [
          { Notification: Match.objectLike({ NotificationType: 'ACTUAL', Threshold: 80 }), Subscribers: [{ SubscriptionType: 'SNS', Address: { Ref: topicId } }] },
          { Notification: Match.objectLike({ NotificationType: 'FORECASTED', Threshold: 100 }), Subscribers: [{ SubscriptionType: 'SNS', Address: { Ref: topicId } }] },
        ],
      });
    }
  });

  it('11. the public router has a concurrency cap', () => {
    for (const [stage, t] of Object.entries(templates)) expect(router(t).Properties.ReservedConcurrentExecutions).toBe(STAGES[stage]!.routerReservedConcurrency);
  });

  it('13. hardening: /dev/shm, the image by digest, no instance metadata for tasks', () => {
    for (const t of Object.values(templates)) {
      expect(container(t).LinuxParameters.SharedMemorySize).toBeGreaterThanOrEqual(1024);
      const [, template] = only(t, 'AWS::EC2::LaunchTemplate');
      expect(JSON.stringify(template.Properties.LaunchTemplateData.UserData)).toContain('ECS_AWSVPC_BLOCK_IMDS=true >> /etc/ecs/ecs.config');
    }
    expect(JSON.stringify(container(templates.prod!).Image)).toMatch(/@sha256:[0-9a-f]{64}"/);
  });
});

describe('the generation port, defined once (infra/lib/generation-port.ts)', () => {
  it('is the one the target group, the tasks\' security group, the container and the image build use', async () => {
    const port = String(GENERATION_PORT);
    for (const [stage, t] of Object.entries(templates)) {
      t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Port: GENERATION_PORT });
      t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { IpProtocol: 'tcp', FromPort: GENERATION_PORT, ToPort: GENERATION_PORT, SourceSecurityGroupId: Match.anyValue() });
      const c = container(t);
      expect(c.PortMappings, stage).toEqual([expect.objectContaining({ ContainerPort: GENERATION_PORT })]);
      expect(c.HealthCheck.Command.join(' '), stage).toContain(`http://127.0.0.1:${port}/health`);
      if (STAGES[stage]!.image.kind === 'vllm') expect(c.Command[c.Command.indexOf('--port') + 1], stage).toBe(port);
      else expect(c.Environment, stage).toContainEqual({ Name: 'PORT', Value: port });
    }
    expect((await devDockerImages()).map((image) => image.source.dockerBuildArgs)).toEqual([{ PORT: port }]);
    const dockerfile = await readFile(join(repoRoot, 'infra/docker/generation.Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^ARG PORT$/m);
    expect(dockerfile).not.toContain(port);
  });
});

describe('a first deploy of an always-on stage with -c minCapacity=0', () => {
  it('starts no task, so none looks for a model that is not uploaded yet', () => {
    const app = buildApp(new App({ context: { ...noBundling, minCapacity: '0' } }), ['prod']);
    const t = Template.fromStack(app.node.findChild('prod').node.findChild('EdgeMaas') as Stack);
    expect(only(t, 'AWS::ECS::Service')[1].Properties.DesiredCount).toBe(0);
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 0 });
  });
});

describe('a stage with an alarm e-mail and a Hugging Face token', () => {
  it('subscribes the e-mail to the alarm topic and gives vLLM the token from Secrets Manager', () => {
    const app = new App({ context: noBundling });
    const config = { ...STAGES.prod!, alarmEmail: 'ops@example.org', image: { ...STAGES.prod!.image, huggingFaceTokenSecretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:hf-token-AbCdEf' } };
    const t = Template.fromStack(new EdgeMaasStack(new Stage(app, 'prod', { env: { region: 'us-east-1' } }), 'EdgeMaas', { config }));
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.org' });
    expect(container(t).Secrets).toEqual(expect.arrayContaining([{ Name: 'HF_TOKEN', ValueFrom: config.image.huggingFaceTokenSecretArn }]));
  });
});
