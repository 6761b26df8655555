/**
 * One environment's AWS side: the model store, the GPU generation service behind its keyed endpoint, the router
 * Lambda with its keys and usage tables and the stage's registry overlay, alarms, capacity events and a budget.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AlarmTopic } from './alarm-topic.js';
import { ServiceAlarms } from './alarms.js';
import { BillingTables } from './billing-tables.js';
import { CapacityEvents } from './capacity-events.js';
import type { StageConfig } from './config.js';
import { CostBudget } from './cost-budget.js';
import { vllmWeightsPrefix } from './generation-container.js';
import { GpuService } from './gpu-service.js';
import { ModelStore } from './model-store.js';
import { registryOverlay } from './registry-overlay.js';
import { RouterFunction } from './router-function.js';

export interface EdgeMaasStackProps extends StackProps {
  config: StageConfig;
}

export class EdgeMaasStack extends Stack {
  constructor(scope: Construct, id: string, props: EdgeMaasStackProps) {
    super(scope, id, props);
    const { config } = props;
    const generationUrl = `https://${config.generationHostname}`;
    const store = new ModelStore(this, 'ModelStore', { logRetentionDays: config.logRetentionDays });
    const gpu = new GpuService(this, 'GpuService', { config, modelBucket: store.bucket, accessLogs: store.accessLogs });
    const router = new RouterFunction(this, 'Router', {
      generationUrl, registryOverlay: registryOverlay(config, generationUrl), upstreamKey: gpu.endpoint.upstreamKey,
      reservedConcurrency: config.routerReservedConcurrency, logRetentionDays: config.logRetentionDays,
    });
    const billing = new BillingTables(this, 'BillingTables', { protectData: config.protectBillingData });
    billing.grantRouter(router.function.role!, (name, value) => router.function.addEnvironment(name, value));
    const alarms = new AlarmTopic(this, 'AlarmTopic', { email: config.alarmEmail });
    new ServiceAlarms(this, 'Alarms', {
      topic: alarms.topic, loadBalancer: gpu.endpoint.loadBalancer, targetGroup: gpu.endpoint.targetGroup, cluster: gpu.cluster, service: gpu.service,
      router: router.function, routerLogs: router.logGroup, tables: [billing.billing, billing.usage],
      scalesToZero: config.minCapacity === 0, wakeSeconds: config.wakeSeconds,
    });
    new CapacityEvents(this, 'CapacityEvents', { group: gpu.capacity.group, service: gpu.service, topic: alarms.topic });
    new CostBudget(this, 'Budget', { name: `edge-maas-${config.name}`, monthlyUsd: config.monthlyBudgetUsd, topic: alarms.topic });

    new CfnOutput(this, 'RouterUrl', { value: router.url.url, description: 'The router (Function URL, streaming)' });
    new CfnOutput(this, 'GpuLoadBalancerDns', { value: gpu.endpoint.loadBalancer.loadBalancerDnsName, description: `Point ${config.generationHostname} (CNAME) here` });
    new CfnOutput(this, 'UpstreamKeySecret', { value: gpu.endpoint.upstreamKey.secretArn, description: 'The key the GPU service requires (Authorization: Bearer); the edge Worker needs it too (wrangler secret put GENERATION_UPSTREAM_KEY)' });
    new CfnOutput(this, 'RegistryOverlay', { value: JSON.stringify(registryOverlay(config, generationUrl)), description: "The stage's generation models: the edge Worker's REGISTRY_OVERLAY var" });
    new CfnOutput(this, 'ModelBucket', { value: store.bucket.bucketName });
    new CfnOutput(this, 'ModelPrefix', {
      value: config.image.kind === 'vllm' ? vllmWeightsPrefix(config.image) : config.image.model.split('/').pop()!,
      description: 'Upload the model here (s3://<ModelBucket>/<ModelPrefix>/) before the first task starts',
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: alarms.topic.topicArn, description: 'Alarms, capacity failures and budget warnings; subscribe more endpoints here' });
    new CfnOutput(this, 'BillingTable', { value: billing.billing.tableName, description: 'BILLING_TABLE for npm run keys' });
    new CfnOutput(this, 'UsageTable', { value: billing.usage.tableName, description: 'USAGE_TABLE for npm run keys and billing:export' });
  }
}
