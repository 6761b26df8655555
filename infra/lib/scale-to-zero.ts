/**
 * Scale to zero for stages with minCapacity 0. Target tracking cannot wake a service with no targets, nor put one
 * to sleep: requests the load balancer refuses for want of a healthy target (its own 503s; requests without the
 * upstream key get 403 and wake nothing) start one task, and an idle period stops them all.
 *
 * The load balancer publishes no data point for a period without requests, so an alarm on the bare request count
 * stays in INSUFFICIENT_DATA when idle and never fires. The sleep alarm fills the gaps with zeros (FILL) and treats
 * missing data as breaching, so no requests reads as zero requests.
 */
import { Duration } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';

export interface ScaleToZeroProps {
  loadBalancer: elbv2.ApplicationLoadBalancer;
  targetGroup: elbv2.ApplicationTargetGroup;
  maxCapacity: number;
  /** Periods of 5 minutes without a request before every task stops. */
  idlePeriods?: number;
}

export function scaleToZero(scaling: ecs.ScalableTaskCount, props: ScaleToZeroProps): void {
  const refused = (period: Duration) => new cloudwatch.Metric({
    namespace: 'AWS/ApplicationELB', metricName: 'HTTPCode_ELB_503_Count',
    dimensionsMap: { LoadBalancer: props.loadBalancer.loadBalancerFullName }, statistic: 'Sum', period,
  });
  scaling.scaleOnMetric('WakeOnRefusedRequests', {
    metric: refused(Duration.minutes(1)),
    scalingSteps: [{ upper: 0, change: 0 }, { lower: 1, change: 1 }],
    adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
  });
  // Requests routed to a task, plus requests refused while waking (so waiting clients keep the wake-up going);
  // strangers' 403s count for neither and keep nothing awake.
  const idle = Duration.minutes(5);
  const routed = props.targetGroup.metrics.requestCount({ period: idle, statistic: 'Sum' });
  scaling.scaleOnMetric('SleepWhenIdle', {
    metric: new cloudwatch.MathExpression({ expression: 'FILL(routed, 0) + FILL(refused, 0)', usingMetrics: { routed, refused: refused(idle) }, period: idle }),
    evaluationPeriods: props.idlePeriods ?? 3,
    scalingSteps: [{ upper: 0, change: -props.maxCapacity }, { lower: 1, change: 0 }],
    adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
  });
  // StepScalingPolicy has no treatMissingData option: set it on the alarm it creates.
  const sleep = scaling.node.findAll().find((c): c is appscaling.StepScalingPolicy => c instanceof appscaling.StepScalingPolicy && c.node.id === 'SleepWhenIdle');
  const lower = sleep?.lowerAlarm?.node.defaultChild as cloudwatch.CfnAlarm | undefined;
  if (!lower) throw new Error('SleepWhenIdle: the step policy created no lower alarm');
  lower.treatMissingData = cloudwatch.TreatMissingData.BREACHING;
}
