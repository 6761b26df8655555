/**
 * The GPU generation service: ECS on EC2 GPU instances (gpu-capacity.ts), one GPU per task running the stage's
 * generation server (generation-container.ts), behind the keyed HTTPS endpoint (gpu-endpoint.ts), with task
 * autoscaling on requests per target that may go down to zero (scale-to-zero.ts). What it depends on comes in as
 * props: the network, the model store, the load balancer's log bucket and certificate, the port, the drain time.
 */
import { Duration } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { generationContainer, type GenerationServerProps } from './generation-container.js';
import { GpuCapacity } from './gpu-capacity.js';
import { GpuEndpoint } from './gpu-endpoint.js';
import type { IModelStore } from './model-store.js';
import { acknowledge } from './nag-suppressions.js';
import { scaleToZero } from './scale-to-zero.js';

/** How many tasks run, when another starts, and how long a first start may take. */
export interface GpuScaling {
  /** 0 lets the service scale to zero when idle. */
  minCapacity: number;
  maxCapacity: number;
  /** Requests per target per minute before another task starts. */
  requestsPerTarget: number;
  /** Seconds from a task's start to its first passing /health: the health-check grace period. */
  taskStartSeconds: number;
}

export interface GpuServiceProps {
  vpc: ec2.IVpc;
  /** The port the generation server listens on in its container. */
  port: number;
  /** Where the weights are: the tasks may read it and nothing else. */
  modelStore: IModelStore;
  /** The load balancer's access logs. */
  accessLogs: s3.IBucket;
  /** For the endpoint's HTTPS listener. */
  certificate: acm.ICertificate;
  /** Requests per client IP per 5 minutes that the endpoint's WAF lets through. */
  wafRequestsPer5Min: number;
  /** How long a task leaving the load balancer (scale-in, deploys) keeps serving its streams. */
  streamDrain: Duration;
  /** g5/g6 sizes with one NVIDIA GPU, in order of preference. */
  instanceTypes: string[];
  server: GenerationServerProps;
  scaling: GpuScaling;
}

export class GpuService extends Construct {
  readonly endpoint: GpuEndpoint;
  readonly capacity: GpuCapacity;
  readonly service: ecs.Ec2Service;
  readonly cluster: ecs.Cluster;

  constructor(scope: Construct, id: string, props: GpuServiceProps) {
    super(scope, id);
    const { vpc, port, scaling } = props;
    this.cluster = new ecs.Cluster(this, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    // An always-on stage keeps every task serving during a deploy: new tasks start beside the old ones, so the
    // group needs room for a second set of instances.
    const keepServing = scaling.minCapacity > 0;
    this.capacity = new GpuCapacity(this, 'Capacity', {
      vpc, cluster: this.cluster, instanceTypes: props.instanceTypes, maxInstances: keepServing ? 2 * scaling.maxCapacity : scaling.maxCapacity,
    });
    this.endpoint = new GpuEndpoint(this, 'Endpoint', {
      vpc, port, certificate: props.certificate, accessLogs: props.accessLogs, deregistrationDelay: props.streamDrain, wafRequestsPer5Min: props.wafRequestsPer5Min,
    });

    const taskDefinition = new ecs.Ec2TaskDefinition(this, 'Task', { networkMode: ecs.NetworkMode.AWS_VPC });
    props.modelStore.grantRead(taskDefinition.taskRole);
    acknowledge(taskDefinition, [['AwsSolutions-ECS2', 'The container environment holds only non-secret settings (port, model location, region); the key comes from Secrets Manager.']]);
    generationContainer(this, { ...props.server, task: taskDefinition, modelBucket: props.modelStore.bucket, upstreamKey: this.endpoint.upstreamKey, port });
    acknowledge(taskDefinition.obtainExecutionRole(), [['AwsSolutions-IAM5[Resource::*]', 'ecr:GetAuthorizationToken, needed to pull the image, accepts only "*".']]);

    const serviceSecurityGroup = new ec2.SecurityGroup(this, 'ServiceSg', { vpc, description: 'Generation tasks: the load balancer only', allowAllOutbound: true });
    serviceSecurityGroup.addIngressRule(this.endpoint.securityGroup, ec2.Port.tcp(port), 'the load balancer');
    this.service = new ecs.Ec2Service(this, 'Service', {
      cluster: this.cluster,
      taskDefinition,
      desiredCount: scaling.minCapacity,
      minHealthyPercent: keepServing ? 100 : 0,
      maxHealthyPercent: 200,
      // Load balancer and container health checks are ignored this long after a task starts, so a slow first
      // start (image pull, weights, CUDA graphs) is not killed and rolled back by the circuit breaker.
      healthCheckGracePeriod: Duration.seconds(scaling.taskStartSeconds),
      securityGroups: [serviceSecurityGroup],
      capacityProviderStrategies: [{ capacityProvider: this.capacity.provider.capacityProviderName, weight: 1 }],
      circuitBreaker: { rollback: true },
    });
    this.endpoint.targetGroup.addTarget(this.service);

    const taskCount = this.service.autoScaleTaskCount({ minCapacity: scaling.minCapacity, maxCapacity: scaling.maxCapacity });
    taskCount.scaleOnRequestCount('RequestsPerTarget', { requestsPerTarget: scaling.requestsPerTarget, targetGroup: this.endpoint.targetGroup });
    if (scaling.minCapacity === 0) scaleToZero(taskCount, { loadBalancer: this.endpoint.loadBalancer, targetGroup: this.endpoint.targetGroup, maxCapacity: scaling.maxCapacity });
  }
}
