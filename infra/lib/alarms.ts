/**
 * Alarms on what users feel (5xx from the GPU service, unhealthy GPU targets, router failures and throttles, tasks
 * that never start) and on what billing needs (throttled or failing DynamoDB calls, usage records the router could
 * not write). Left out on purpose: p99 of router invocations (a normal stream runs for minutes) and p99 target
 * response time (for a stream it measures the time to response headers, not to the answer).
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface AlarmsProps {
  topic: sns.ITopic;
  loadBalancer: elbv2.ApplicationLoadBalancer;
  targetGroup: elbv2.ApplicationTargetGroup;
  cluster: ecs.ICluster;
  service: ecs.Ec2Service;
  router: lambda.IFunction;
  routerLogs: logs.ILogGroup;
  /** The keys and usage tables. */
  tables: dynamodb.TableV2[];
  /** The service scales to zero: the load balancer's 503s while it wakes are expected, not errors. */
  scalesToZero: boolean;
  /** How long a task may take to start from zero (instance launch included) before it counts as stuck. */
  wakeSeconds: number;
}

export class ServiceAlarms extends Construct {
  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const notify = new actions.SnsAction(props.topic);
    const alarm = (name: string, metric: cloudwatch.IMetric, threshold: number, what: string, periods = { evaluationPeriods: 3, datapointsToAlarm: 2 }) => {
      const created = new cloudwatch.Alarm(this, name, {
        metric, threshold, ...periods, alarmDescription: what,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(notify);
      return created;
    };
    const minute = Duration.minutes(1);
    const lb = props.loadBalancer.metrics;
    const errors = props.scalesToZero ? 'FILL(e5, 0) - FILL(e503, 0) + FILL(t5, 0)' : 'FILL(e5, 0) + FILL(t5, 0)';
    alarm('Gpu5xxRate', new cloudwatch.MathExpression({
      expression: `IF(FILL(requests, 0) > 0, 100 * (${errors}) / requests, 0)`,
      usingMetrics: {
        e5: lb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: minute }),
        ...(props.scalesToZero ? { e503: lb.custom('HTTPCode_ELB_503_Count', { period: minute, statistic: 'Sum' }) } : {}),
        t5: lb.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: minute }),
        requests: lb.requestCount({ period: minute }),
      },
      period: minute,
    }), 5, props.scalesToZero ? 'More than 5 % of GPU service requests end in 5xx (the 503s of a cold start excluded)' : 'More than 5 % of GPU service requests end in 5xx');
    alarm('UnhealthyGpuTargets', props.targetGroup.metrics.unhealthyHostCount({ period: minute }), 1, 'A GPU task fails its /health check');
    alarm('RouterErrors', props.router.metricErrors({ period: minute }), 5, 'The router Lambda fails (crashes or timeouts)');
    alarm('RouterThrottles', props.router.metricThrottles({ period: minute }), 1, 'The router Lambda hit its reserved concurrency: requests were refused');

    // Tasks that stay PROVISIONING or PENDING (no instance, no capacity, an image that cannot be pulled) longer
    // than a wake-up takes.
    const period = Duration.minutes(5);
    const insight = (metricName: string) => new cloudwatch.Metric({
      namespace: 'ECS/ContainerInsights', metricName, statistic: 'Average', period,
      dimensionsMap: { ClusterName: props.cluster.clusterName, ServiceName: props.service.serviceName },
    });
    const stuckPeriods = Math.ceil(props.wakeSeconds / period.toSeconds()) + 1;
    alarm('TasksNotStarting', new cloudwatch.MathExpression({
      expression: 'desired - FILL(running, 0)', usingMetrics: { desired: insight('DesiredTaskCount'), running: insight('RunningTaskCount') }, period,
    }), 1, `Generation tasks wanted but not running for ${stuckPeriods * 5} minutes (stuck in PROVISIONING or PENDING)`, { evaluationPeriods: stuckPeriods, datapointsToAlarm: stuckPeriods });

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
