/**
 * The GPU generation service: ECS on EC2 GPU instances (g5/g6, the GPU-optimized ECS AMI, a launch template)
 * behind a capacity provider with managed scaling, one GPU per task, an HTTPS load balancer with a long idle
 * timeout for streams, and task autoscaling on requests per target that may go down to zero.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { StageConfig } from './config.js';
import { acknowledge } from './nag-suppressions.js';
import { generationContainer } from './generation-container.js';

export const GENERATION_PORT = 8000;
export const STREAM_IDLE_TIMEOUT = Duration.seconds(600);

export interface GpuServiceProps {
  config: StageConfig;
  modelBucket: s3.IBucket;
  accessLogs: s3.IBucket;
}

export class GpuService extends Construct {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly service: ecs.Ec2Service;

  constructor(scope: Construct, id: string, props: GpuServiceProps) {
    super(scope, id);
    const { config } = props;
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 1,
      flowLogs: { all: { destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(this, 'FlowLogs', { retention: config.logRetentionDays, removalPolicy: RemovalPolicy.DESTROY })) } },
    });
    const cluster = new ecs.Cluster(this, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });

    const instanceRole = new iam.Role(this, 'InstanceRole', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
    const instanceSecurityGroup = new ec2.SecurityGroup(this, 'InstanceSg', { vpc, description: 'GPU instances: the load balancer only', allowAllOutbound: true });
    const launchTemplate = new ec2.LaunchTemplate(this, 'GpuLaunchTemplate', {
      instanceType: new ec2.InstanceType(config.instanceType),
      machineImage: ecs.EcsOptimizedImage.amazonLinux2023(ecs.AmiHardwareType.GPU),
      userData: ec2.UserData.forLinux(),
      role: instanceRole,
      securityGroup: instanceSecurityGroup,
      requireImdsv2: true,
      blockDevices: [{ deviceName: '/dev/xvda', volume: ec2.BlockDeviceVolume.ebs(200, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3 }) }],
    });
    const group = new autoscaling.AutoScalingGroup(this, 'GpuInstances', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      launchTemplate,
      minCapacity: 0,
      maxCapacity: config.maxCapacity,
    });
    const capacityProvider = new ecs.AsgCapacityProvider(this, 'GpuCapacity', {
      autoScalingGroup: group,
      enableManagedScaling: true,
      targetCapacityPercent: 100,
      enableManagedTerminationProtection: false,
      // ECS drains instances itself; no CDK drain-hook Lambda and topic.
      enableManagedDraining: true,
    });
    cluster.addAsgCapacityProvider(capacityProvider);
    acknowledge(instanceRole, [
      ['AwsSolutions-IAM5[Action::ecs:Submit*]', "The ECS container agent's permissions as the ECS integration grants them (state changes it submits)."],
      ['AwsSolutions-IAM5[Resource::*]', 'ecs:DiscoverPollEndpoint, ecr:GetAuthorizationToken and the like accept only "*" as their resource.'],
    ]);
    acknowledge(group, [['AwsSolutions-AS3', 'Scaling of the GPU group is driven by the ECS capacity provider; service health is alarmed on (alarms.ts).']]);

    const taskDefinition = new ecs.Ec2TaskDefinition(this, 'Task', { networkMode: ecs.NetworkMode.AWS_VPC });
    // Read the models, nothing else: no wildcard actions on the bucket.
    taskDefinition.addToTaskRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [props.modelBucket.arnForObjects('*')] }));
    taskDefinition.addToTaskRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.modelBucket.bucketArn] }));
    acknowledge(taskDefinition.taskRole, [['AwsSolutions-IAM5[Resource::<ModelStoreModelsB220DB3A.Arn>/*]', 'Object keys of the one model bucket: the task reads the model folders in it.']]);
    acknowledge(taskDefinition, [['AwsSolutions-ECS2', 'The container environment holds only non-secret settings (port, model path, bucket URI).']]);
    generationContainer(this, taskDefinition, config, props.modelBucket);

    const serviceSecurityGroup = new ec2.SecurityGroup(this, 'ServiceSg', { vpc, description: 'Generation tasks: the load balancer only', allowAllOutbound: true });
    this.service = new ecs.Ec2Service(this, 'Service', {
      cluster,
      taskDefinition,
      desiredCount: config.minCapacity,
      minHealthyPercent: 0,
      maxHealthyPercent: 200,
      securityGroups: [serviceSecurityGroup],
      capacityProviderStrategies: [{ capacityProvider: capacityProvider.capacityProviderName, weight: 1 }],
      circuitBreaker: { rollback: true },
    });

    const albSecurityGroup = new ec2.SecurityGroup(this, 'AlbSg', { vpc, description: 'Public HTTPS', allowAllOutbound: true });
    albSecurityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS from anywhere');
    serviceSecurityGroup.addIngressRule(albSecurityGroup, ec2.Port.tcp(GENERATION_PORT), 'the load balancer');
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      vpc,
      internetFacing: true,
      securityGroup: albSecurityGroup,
      idleTimeout: STREAM_IDLE_TIMEOUT,
      dropInvalidHeaderFields: true,
    });
    this.loadBalancer.logAccessLogs(props.accessLogs, 'alb');
    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'Targets', {
      vpc,
      port: GENERATION_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      deregistrationDelay: Duration.seconds(60),
      healthCheck: { path: '/health', healthyHttpCodes: '200', interval: Duration.seconds(15), healthyThresholdCount: 2, unhealthyThresholdCount: 3 },
    });
    this.targetGroup.addTarget(this.service);
    this.loadBalancer.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      sslPolicy: elbv2.SslPolicy.TLS13_RES,
      certificates: [acm.Certificate.fromCertificateArn(this, 'Certificate', config.certificateArn)],
      defaultTargetGroups: [this.targetGroup],
    });

    acknowledge(albSecurityGroup, [['AwsSolutions-EC23', 'The load balancer is the public HTTPS endpoint of the GPU service: 443 from anywhere is its purpose.']]);
    acknowledge(taskDefinition.obtainExecutionRole(), [['AwsSolutions-IAM5[Resource::*]', 'ecr:GetAuthorizationToken, needed to pull the image, accepts only "*".']]);

    const scaling = this.service.autoScaleTaskCount({ minCapacity: config.minCapacity, maxCapacity: config.maxCapacity });
    scaling.scaleOnRequestCount('RequestsPerTarget', { requestsPerTarget: config.requestsPerTarget, targetGroup: this.targetGroup });
    if (config.minCapacity === 0) this.scaleToZero(scaling, config);
  }

  /**
   * Target tracking cannot wake a service with no targets, nor put one to sleep: requests refused for want of a
   * healthy target (the ALB's own 503s) start one task; 15 minutes without a request stop them all.
   */
  private scaleToZero(scaling: ecs.ScalableTaskCount, config: StageConfig): void {
    const lb = this.loadBalancer.loadBalancerFullName;
    const metric = (metricName: string, period: Duration) =>
      new cloudwatch.Metric({ namespace: 'AWS/ApplicationELB', metricName, dimensionsMap: { LoadBalancer: lb }, statistic: 'Sum', period });
    scaling.scaleOnMetric('WakeOnRefusedRequests', {
      metric: metric('HTTPCode_ELB_503_Count', Duration.minutes(1)),
      scalingSteps: [{ upper: 0, change: 0 }, { lower: 1, change: 1 }],
      adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
    });
    scaling.scaleOnMetric('SleepWhenIdle', {
      metric: metric('RequestCount', Duration.minutes(5)),
      evaluationPeriods: 3,
      scalingSteps: [{ upper: 0, change: -config.maxCapacity }, { lower: 1, change: 0 }],
      adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
    });
  }
}
