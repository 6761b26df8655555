/**
 * One environment's AWS side, composed from constructs that each take what they depend on: the network and the
 * model store, the GPU generation service behind its keyed endpoint, the router Lambda with its keys and usage
 * tables and the stage's registry overlay, fine-tuning's table, bucket and runner function, alarms, capacity events
 * and a budget. Who may use what is said here, with the owners' grant methods.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { AlarmTopic } from './alarm-topic.js';
import { ServiceAlarms } from './alarms.js';
import { BillingTables } from './billing-tables.js';
import { CapacityEvents } from './capacity-events.js';
import type { StageConfig } from './config.js';
import { CostBudget } from './cost-budget.js';
import { modelPrefix } from './generation-container.js';
import { GENERATION_PORT } from './generation-port.js';
import { GpuService } from './gpu-service.js';
import { ModelStore } from './model-store.js';
import { Network } from './network.js';
import { jurisdictionOf } from './jurisdiction.js';
import { registryOverlay } from './registry-overlay.js';
import { RouterFunction } from './router-function.js';
import { TuningStore } from './tuning-store.js';
import { STREAM_DRAIN } from './stream-timeouts.js';

export interface EdgeMaasStackProps extends StackProps {
  config: StageConfig;
}

export class EdgeMaasStack extends Stack {
  constructor(scope: Construct, id: string, props: EdgeMaasStackProps) {
    super(scope, id, props);
    const { config } = props;
    const { image } = config;
    const generationUrl = `https://${config.generationHostname}`;
    const overlay = registryOverlay(config, generationUrl);
    const network = new Network(this, 'Network', { logRetentionDays: config.logRetentionDays });
    const store = new ModelStore(this, 'ModelStore', { logRetentionDays: config.logRetentionDays });
    const gpu = new GpuService(this, 'GpuService', {
      vpc: network.vpc,
      port: GENERATION_PORT,
      modelStore: store,
      accessLogs: store.accessLogs,
      certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', config.certificateArn),
      wafRequestsPer5Min: config.wafRequestsPer5Min,
      streamDrain: STREAM_DRAIN,
      instanceTypes: config.instanceTypes,
      server: {
        image,
        servedModelName: config.generation.servedName,
        dockerHubCachePrefix: `${config.name}-docker-hub`,
        huggingFaceToken: image.huggingFaceTokenSecretArn ? secretsmanager.Secret.fromSecretCompleteArn(this, 'HuggingFaceToken', image.huggingFaceTokenSecretArn) : undefined,
        logRetentionDays: config.logRetentionDays,
      },
      scaling: { minCapacity: config.minCapacity, maxCapacity: config.maxCapacity, requestsPerTarget: config.requestsPerTarget, taskStartSeconds: config.taskStartSeconds },
    });
    const router = new RouterFunction(this, 'Router', {
      generationUrl, registryOverlay: overlay, upstreamKey: gpu.endpoint.upstreamKey,
      reservedConcurrency: config.routerReservedConcurrency, logRetentionDays: config.logRetentionDays, jurisdiction: jurisdictionOf(config.region),
    });
    gpu.endpoint.grantInvoke(router.function);
    const billing = new BillingTables(this, 'BillingTables', { protectData: config.protectBillingData });
    billing.grantReadWrite(router.function);
    for (const [name, value] of Object.entries(billing.environment)) router.function.addEnvironment(name, value);
    const tuning = new TuningStore(this, 'TuningStore', {
      protectData: config.protectBillingData, accessLogs: store.accessLogs, logRetentionDays: config.logRetentionDays, billingEnvironment: billing.environment,
    });
    billing.grantReadWrite(tuning.runner);
    tuning.grantRouter(router.function);
    for (const [name, value] of Object.entries(tuning.environment)) router.function.addEnvironment(name, value);
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
    new CfnOutput(this, 'RegistryOverlay', { value: JSON.stringify(overlay), description: "The stage's generation models: the edge Worker's REGISTRY_OVERLAY var" });
    new CfnOutput(this, 'ModelBucket', { value: store.bucket.bucketName });
    new CfnOutput(this, 'ModelPrefix', { value: modelPrefix(image), description: 'Upload the model here (s3://<ModelBucket>/<ModelPrefix>/) before the first task starts' });
    new CfnOutput(this, 'AlarmTopicArn', { value: alarms.topic.topicArn, description: 'Alarms, capacity failures and budget warnings; subscribe more endpoints here' });
    new CfnOutput(this, 'BillingTable', { value: billing.billing.tableName, description: 'BILLING_TABLE for npm run keys' });
    new CfnOutput(this, 'TuningTable', { value: tuning.table.tableName, description: 'Fine-tuning files, jobs, events and tenant models' });
    new CfnOutput(this, 'TuningBucket', { value: tuning.bucket.bucketName, description: "Fine-tuning files' bytes" });
    new CfnOutput(this, 'UsageTable', { value: billing.usage.tableName, description: 'USAGE_TABLE for npm run keys and billing:export' });
  }
}
