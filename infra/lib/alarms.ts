/** Alarms on what users feel: 5xx from the router and the GPU service, unhealthy GPU targets, p99 latency. */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface AlarmsProps {
  loadBalancer: elbv2.ApplicationLoadBalancer;
  targetGroup: elbv2.ApplicationTargetGroup;
  router: lambda.IFunction;
}

export class ServiceAlarms extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    // CloudWatch cannot publish to a topic under the AWS-managed SNS key: a key of our own, rotated, that it may use.
    const key = new kms.Key(this, 'AlarmTopicKey', { enableKeyRotation: true, description: 'edge-maas alarm topic' });
    key.grantEncryptDecrypt(new iam.ServicePrincipal('cloudwatch.amazonaws.com'));
    this.topic = new sns.Topic(this, 'Alarms', { enforceSSL: true, masterKey: key });
    const notify = new actions.SnsAction(this.topic);
    const alarm = (name: string, metric: cloudwatch.IMetric, threshold: number, what: string) => {
      const created = new cloudwatch.Alarm(this, name, {
        metric, threshold, evaluationPeriods: 3, datapointsToAlarm: 2, alarmDescription: what,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(notify);
      return created;
    };
    const minute = Duration.minutes(1);
    const lb = props.loadBalancer.metrics;
    alarm('Gpu5xxRate', new cloudwatch.MathExpression({
      expression: '100 * (e5 + t5) / MAX([requests, 1])',
      usingMetrics: { e5: lb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: minute }), t5: lb.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: minute }), requests: lb.requestCount({ period: minute }) },
      period: minute,
    }), 5, 'More than 5 % of GPU service requests end in 5xx');
    alarm('UnhealthyGpuTargets', props.targetGroup.metrics.unhealthyHostCount({ period: minute }), 1, 'A GPU task fails its /health check');
    alarm('GpuP99Latency', props.targetGroup.metrics.targetResponseTime({ period: minute, statistic: 'p99' }), 60, 'p99 time to a full GPU answer over 60 s');
    alarm('RouterErrors', props.router.metricErrors({ period: minute }), 5, 'The router Lambda fails (crashes or timeouts)');
    alarm('RouterP99Duration', props.router.metricDuration({ period: minute, statistic: 'p99' }), 30_000, 'p99 router invocation over 30 s');
  }
}
