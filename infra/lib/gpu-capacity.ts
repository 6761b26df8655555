/**
 * GPU instances for the generation tasks: the GPU-optimized ECS AMI through a launch template, an Auto Scaling group
 * that tries the stage's instance types in order (a second type when the first has no capacity), and a capacity
 * provider with managed scaling. Tasks cannot reach the instance's metadata endpoint (ECS_AWSVPC_BLOCK_IMDS), so
 * they cannot borrow the instance role.
 */
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledge } from './nag-suppressions.js';

export interface GpuCapacityProps {
  vpc: ec2.IVpc;
  cluster: ecs.Cluster;
  instanceTypes: string[];
  /** Instances at most: room for the largest task count, and for a full replacement during a rolling deploy. */
  maxInstances: number;
}

export class GpuCapacity extends Construct {
  readonly provider: ecs.AsgCapacityProvider;
  readonly group: autoscaling.AutoScalingGroup;

  constructor(scope: Construct, id: string, props: GpuCapacityProps) {
    super(scope, id);
    const role = new iam.Role(this, 'InstanceRole', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
    const securityGroup = new ec2.SecurityGroup(this, 'InstanceSg', { vpc: props.vpc, description: 'GPU instances: no inbound; tasks have their own security group', allowAllOutbound: true });
    const userData = ec2.UserData.forLinux();
    userData.addCommands('echo ECS_AWSVPC_BLOCK_IMDS=true >> /etc/ecs/ecs.config');
    const launchTemplate = new ec2.LaunchTemplate(this, 'GpuLaunchTemplate', {
      instanceType: new ec2.InstanceType(props.instanceTypes[0]!),
      machineImage: ecs.EcsOptimizedImage.amazonLinux2023(ecs.AmiHardwareType.GPU),
      userData,
      role,
      securityGroup,
      requireImdsv2: true,
      blockDevices: [{ deviceName: '/dev/xvda', volume: ec2.BlockDeviceVolume.ebs(200, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3 }) }],
    });
    this.group = new autoscaling.AutoScalingGroup(this, 'GpuInstances', {
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      mixedInstancesPolicy: {
        launchTemplate,
        launchTemplateOverrides: props.instanceTypes.map((type) => ({ instanceType: new ec2.InstanceType(type) })),
        instancesDistribution: {
          onDemandAllocationStrategy: autoscaling.OnDemandAllocationStrategy.PRIORITIZED,
          onDemandBaseCapacity: 0,
          onDemandPercentageAboveBaseCapacity: 100,
        },
      },
      minCapacity: 0,
      maxCapacity: props.maxInstances,
    });
    this.provider = new ecs.AsgCapacityProvider(this, 'GpuCapacity', {
      autoScalingGroup: this.group,
      enableManagedScaling: true,
      targetCapacityPercent: 100,
      enableManagedTerminationProtection: false,
      // ECS drains instances itself; no CDK drain-hook Lambda and topic.
      enableManagedDraining: true,
    });
    props.cluster.addAsgCapacityProvider(this.provider);
    acknowledge(role, [
      ['AwsSolutions-IAM5[Action::ecs:Submit*]', "The ECS container agent's permissions as the ECS integration grants them (state changes it submits)."],
      ['AwsSolutions-IAM5[Resource::*]', 'ecs:DiscoverPollEndpoint, ecr:GetAuthorizationToken and the like accept only "*" as their resource.'],
    ]);
    acknowledge(this.group, [
      ['AwsSolutions-AS3', 'Scaling of the GPU group is driven by the ECS capacity provider; launch failures are reported (capacity-events.ts).'],
      // cdk-nag 3.0.2's EC26 throws on a MixedInstancesPolicy instead of reading its launch template.
      ['AwsSolutions-EC26', 'The launch template encrypts the root volume (encrypted: true; asserted in test/infra/stacks.test.ts).'],
    ]);
  }
}
