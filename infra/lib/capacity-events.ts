/**
 * GPU capacity failures, which no metric shows: the Auto Scaling group could not launch an instance (no capacity
 * for any of the stage's instance types, or the G-instance vCPU quota), or ECS could not place a task.
 */
import type * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface CapacityEventsProps {
  group: autoscaling.IAutoScalingGroup;
  service: ecs.IBaseService;
  topic: sns.ITopic;
}

export class CapacityEvents extends Construct {
  constructor(scope: Construct, id: string, props: CapacityEventsProps) {
    super(scope, id);
    const notify = new targets.SnsTopic(props.topic);
    new events.Rule(this, 'InstanceLaunchFailed', {
      description: 'A GPU instance could not be launched (capacity or quota)',
      eventPattern: { source: ['aws.autoscaling'], detailType: ['EC2 Instance Launch Unsuccessful'], detail: { AutoScalingGroupName: [props.group.autoScalingGroupName] } },
      targets: [notify],
    });
    new events.Rule(this, 'TaskPlacementFailed', {
      description: 'ECS could not place a generation task',
      eventPattern: { source: ['aws.ecs'], detailType: ['ECS Service Action'], resources: [props.service.serviceArn], detail: { eventName: ['SERVICE_TASK_PLACEMENT_FAILURE'] } },
      targets: [notify],
    });
  }
}
