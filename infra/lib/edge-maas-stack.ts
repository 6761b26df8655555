/** One environment's AWS side: the model store, the GPU generation service, the router Lambda with its keys and usage tables, and alarms. */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ServiceAlarms } from './alarms.js';
import { BillingTables } from './billing-tables.js';
import type { StageConfig } from './config.js';
import { GpuService } from './gpu-service.js';
import { ModelStore } from './model-store.js';
import { RouterFunction } from './router-function.js';

export interface EdgeMaasStackProps extends StackProps {
  config: StageConfig;
}

export class EdgeMaasStack extends Stack {
  constructor(scope: Construct, id: string, props: EdgeMaasStackProps) {
    super(scope, id, props);
    const { config } = props;
    const store = new ModelStore(this, 'ModelStore');
    const gpu = new GpuService(this, 'GpuService', { config, modelBucket: store.bucket, accessLogs: store.accessLogs });
    const router = new RouterFunction(this, 'Router', { generationUrl: `https://${config.generationHostname}`, logRetentionDays: config.logRetentionDays });
    const billing = new BillingTables(this, 'BillingTables', { protectData: config.protectBillingData });
    billing.grantRouter(router.function.role!, (name, value) => router.function.addEnvironment(name, value));
    new ServiceAlarms(this, 'Alarms', {
      loadBalancer: gpu.loadBalancer, targetGroup: gpu.targetGroup, router: router.function, routerLogs: router.logGroup, tables: [billing.billing, billing.usage],
    });
    new CfnOutput(this, 'RouterUrl', { value: router.url.url, description: 'The router (Function URL, streaming)' });
    new CfnOutput(this, 'GpuLoadBalancerDns', { value: gpu.loadBalancer.loadBalancerDnsName, description: `Point ${config.generationHostname} (CNAME) here` });
    new CfnOutput(this, 'ModelBucket', { value: store.bucket.bucketName });
    new CfnOutput(this, 'BillingTable', { value: billing.billing.tableName, description: 'BILLING_TABLE for npm run keys' });
    new CfnOutput(this, 'UsageTable', { value: billing.usage.tableName, description: 'USAGE_TABLE for npm run keys and billing:export' });
  }
}
