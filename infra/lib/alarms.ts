/**
 * Alarms on what users feel (5xx from the router and the GPU service, unhealthy GPU targets, p99 latency) and on
 * what billing needs: throttled or failing DynamoDB calls, and usage records the router could not write.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface AlarmsProps {
  loadBalancer: elbv2.ApplicationLoadBalancer;
  targetGroup: elbv2.ApplicationTargetGroup;
  router: lambda.IFunction;
  routerLogs: logs.ILogGroup;
  /** The keys and usage tables. */
  tables: dynamodb.TableV2[];
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
    // The operations the router calls (an alarm's expression takes at most 10 metrics, not all of DynamoDB's).
    const operations = [dynamodb.Operation.GET_ITEM, dynamodb.Operation.PUT_ITEM, dynamodb.Operation.UPDATE_ITEM, dynamodb.Operation.QUERY];
    for (const table of props.tables) {
      const name = table.node.id;
      alarm(`${name}Throttled`, table.metricThrottledRequestsForOperations({ operations, period: minute }), 10, `DynamoDB throttles calls to the ${name} table`);
      alarm(`${name}SystemErrors`, table.metricSystemErrorsForOperations({ operations, period: minute }), 1, `DynamoDB fails calls to the ${name} table`);
    }
    // The router logs this line when a batch of usage records fails and is kept for a retry.
    const unwritten = new logs.MetricFilter(this, 'UsageWriteFailuresFilter', {
      logGroup: props.routerLogs, filterPattern: logs.FilterPattern.literal('"usage write failed"'),
      metricNamespace: 'EdgeMaas', metricName: 'UsageWriteFailures', metricValue: '1', defaultValue: 0,
    });
    alarm('UsageWriteFailures', unwritten.metric({ period: minute, statistic: 'Sum' }), 1, 'The router could not write usage records (billing)');
  }
}
