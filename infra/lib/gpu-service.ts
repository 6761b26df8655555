/**
 * The GPU generation service: ECS on EC2 GPU instances (gpu-capacity.ts), one GPU per task, behind the keyed HTTPS
 * endpoint (gpu-endpoint.ts), with task autoscaling on requests per target that may go down to zero
 * (scale-to-zero.ts). Model weights and image layers reach the private subnets through a free S3 gateway endpoint,
 * not the NAT gateway.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { StageConfig } from './config.js';
import { generationContainer } from './generation-container.js';
import { GpuCapacity } from './gpu-capacity.js';
import { GENERATION_PORT, GpuEndpoint } from './gpu-endpoint.js';
import { acknowledge } from './nag-suppressions.js';
import { scaleToZero } from './scale-to-zero.js';
import { STREAM_DRAIN } from './stream-timeouts.js';

export interface GpuServiceProps {
  config: StageConfig;
  modelBucket: s3.IBucket;
  accessLogs: s3.IBucket;
}

export class GpuService extends Construct {
  readonly endpoint: GpuEndpoint;
  readonly capacity: GpuCapacity;
  readonly service: ecs.Ec2Service;
  readonly cluster: ecs.Cluster;

  constructor(scope: Construct, id: string, props: GpuServiceProps) {
    super(scope, id);
    const { config } = props;
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 1,
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
      flowLogs: { all: { destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(this, 'FlowLogs', { retention: config.logRetentionDays, removalPolicy: RemovalPolicy.DESTROY })) } },
    });
    this.cluster = new ecs.Cluster(this, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    // An always-on stage keeps every task serving during a deploy: new tasks start beside the old ones, so the
    // group needs room for a second set of instances.
    const keepServing = config.minCapacity > 0;
    this.capacity = new GpuCapacity(this, 'Capacity', {
      vpc, cluster: this.cluster, instanceTypes: config.instanceTypes, maxInstances: keepServing ? 2 * config.maxCapacity : config.maxCapacity,
    });
    this.endpoint = new GpuEndpoint(this, 'Endpoint', {
      vpc, certificateArn: config.certificateArn, accessLogs: props.accessLogs, deregistrationDelay: STREAM_DRAIN, wafRequestsPer5Min: config.wafRequestsPer5Min,
    });

    const taskDefinition = new ecs.Ec2TaskDefinition(this, 'Task', { networkMode: ecs.NetworkMode.AWS_VPC });
    // Read the models, nothing else: no wildcard actions on the bucket.
    taskDefinition.addToTaskRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [props.modelBucket.arnForObjects('*')] }));
    taskDefinition.addToTaskRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.modelBucket.bucketArn] }));
    acknowledge(taskDefinition.taskRole, [['AwsSolutions-IAM5[Resource::<ModelStoreModelsB220DB3A.Arn>/*]', 'Object keys of the one model bucket: the task reads the model folders in it.']]);
    acknowledge(taskDefinition, [['AwsSolutions-ECS2', 'The container environment holds only non-secret settings (port, model location, region); the key comes from Secrets Manager.']]);
    generationContainer(this, taskDefinition, { config, modelBucket: props.modelBucket, upstreamKey: this.endpoint.upstreamKey, port: GENERATION_PORT });
    acknowledge(taskDefinition.obtainExecutionRole(), [['AwsSolutions-IAM5[Resource::*]', 'ecr:GetAuthorizationToken, needed to pull the image, accepts only "*".']]);

    const serviceSecurityGroup = new ec2.SecurityGroup(this, 'ServiceSg', { vpc, description: 'Generation tasks: the load balancer only', allowAllOutbound: true });
    serviceSecurityGroup.addIngressRule(this.endpoint.securityGroup, ec2.Port.tcp(GENERATION_PORT), 'the load balancer');
    this.service = new ecs.Ec2Service(this, 'Service', {
      cluster: this.cluster,
      taskDefinition,
      desiredCount: config.minCapacity,
      minHealthyPercent: keepServing ? 100 : 0,
      maxHealthyPercent: 200,
      // Load balancer and container health checks are ignored this long after a task starts, so a slow first
      // start (image pull, weights, CUDA graphs) is not killed and rolled back by the circuit breaker.
      healthCheckGracePeriod: Duration.seconds(config.taskStartSeconds),
      securityGroups: [serviceSecurityGroup],
      capacityProviderStrategies: [{ capacityProvider: this.capacity.provider.capacityProviderName, weight: 1 }],
      circuitBreaker: { rollback: true },
    });
    this.endpoint.targetGroup.addTarget(this.service);

    const scaling = this.service.autoScaleTaskCount({ minCapacity: config.minCapacity, maxCapacity: config.maxCapacity });
    scaling.scaleOnRequestCount('RequestsPerTarget', { requestsPerTarget: config.requestsPerTarget, targetGroup: this.endpoint.targetGroup });
    if (config.minCapacity === 0) scaleToZero(scaling, { loadBalancer: this.endpoint.loadBalancer, targetGroup: this.endpoint.targetGroup, maxCapacity: config.maxCapacity });
  }
}
