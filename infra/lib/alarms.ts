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
  loadBalancer: elbv2.IApplicationLoadBalancer;
  targetGroup: elbv2.IApplicationTargetGroup;
  cluster: ecs.ICluster;
  service: ecs.IBaseService;
  router: lambda.IFunction;
  routerLogs: logs.ILogGroup;
  /** The keys and usage tables. */
  tables: dynamodb.ITableV2[];
  /** The service scales to zero: the load balancer's 503s while it wakes are expected, not errors. */
  scalesToZero: boolean;
  /** How long a task may take to start from zero (instance launch included) before it counts as stuck. */
  wakeSeconds: number;
}

/** One alarm: at or above `threshold` in `datapointsToAlarm` of the last `evaluationPeriods` periods (2 of 3 unless said). */
interface AlarmOptions {
  metric: cloudwatch.IMetric;
  threshold: number;
  /** What it means when it fires. */
  description: string;
  evaluationPeriods?: number;
  datapointsToAlarm?: number;
}

export class ServiceAlarms extends Construct {
  private readonly notify: actions.SnsAction;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    this.notify = new actions.SnsAction(props.topic);
    const minute = Duration.minutes(1);
    const lb = props.loadBalancer.metrics;
    const errors = props.scalesToZero ? 'FILL(e5, 0) - FILL(e503, 0) + FILL(t5, 0)' : 'FILL(e5, 0) + FILL(t5, 0)';
    this.alarm('Gpu5xxRate', {
      metric: new cloudwatch.MathExpression({
        expression: `IF(FILL(requests, 0) > 0, 100 * (${errors}) / requests, 0)`,
        usingMetrics: {
          e5: lb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: minute }),
          ...(props.scalesToZero ? { e503: lb.custom('HTTPCode_ELB_503_Count', { period: minute, statistic: 'Sum' }) } : {}),
          t5: lb.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: minute }),
          requests: lb.requestCount({ period: minute }),
        },
        period: minute,
      }),
      threshold: 5,
      description: props.scalesToZero ? 'More than 5 % of GPU service requests end in 5xx (the 503s of a cold start excluded)' : 'More than 5 % of GPU service requests end in 5xx',
    });
    this.alarm('UnhealthyGpuTargets', { metric: props.targetGroup.metrics.unhealthyHostCount({ period: minute }), threshold: 1, description: 'A GPU task fails its /health check' });
    this.alarm('RouterErrors', { metric: props.router.metricErrors({ period: minute }), threshold: 5, description: 'The router Lambda fails (crashes or timeouts)' });
    this.alarm('RouterThrottles', { metric: props.router.metricThrottles({ period: minute }), threshold: 1, description: 'The router Lambda hit its reserved concurrency: requests were refused' });

    // Tasks that stay PROVISIONING or PENDING (no instance, no capacity, an image that cannot be pulled) longer
    // than a wake-up takes.
    const period = Duration.minutes(5);
    const insight = (metricName: string) => new cloudwatch.Metric({
      namespace: 'ECS/ContainerInsights', metricName, statistic: 'Average', period,
      dimensionsMap: { ClusterName: props.cluster.clusterName, ServiceName: props.service.serviceName },
    });
    const stuckPeriods = Math.ceil(props.wakeSeconds / period.toSeconds()) + 1;
    this.alarm('TasksNotStarting', {
      metric: new cloudwatch.MathExpression({
        expression: 'desired - FILL(running, 0)', usingMetrics: { desired: insight('DesiredTaskCount'), running: insight('RunningTaskCount') }, period,
      }),
      threshold: 1,
      description: `Generation tasks wanted but not running for ${stuckPeriods * 5} minutes (stuck in PROVISIONING or PENDING)`,
      evaluationPeriods: stuckPeriods,
      datapointsToAlarm: stuckPeriods,
    });

    // The operations the router calls (an alarm's expression takes at most 10 metrics, not all of DynamoDB's).
    const operations = [dynamodb.Operation.GET_ITEM, dynamodb.Operation.PUT_ITEM, dynamodb.Operation.UPDATE_ITEM, dynamodb.Operation.QUERY];
    for (const table of props.tables) {
      const name = table.node.id;
      this.alarm(`${name}Throttled`, { metric: table.metricThrottledRequestsForOperations({ operations, period: minute }), threshold: 10, description: `DynamoDB throttles calls to the ${name} table` });
      this.alarm(`${name}SystemErrors`, { metric: table.metricSystemErrorsForOperations({ operations, period: minute }), threshold: 1, description: `DynamoDB fails calls to the ${name} table` });
    }
    // The router logs this line when a batch of usage records fails and is kept for a retry.
    const unwritten = new logs.MetricFilter(this, 'UsageWriteFailuresFilter', {
      logGroup: props.routerLogs, filterPattern: logs.FilterPattern.literal('"usage write failed"'),
      metricNamespace: 'EdgeMaas', metricName: 'UsageWriteFailures', metricValue: '1', defaultValue: 0,
    });
    this.alarm('UsageWriteFailures', { metric: unwritten.metric({ period: minute, statistic: 'Sum' }), threshold: 1, description: 'The router could not write usage records (billing)' });
  }

  private alarm(name: string, { metric, threshold, description, evaluationPeriods = 3, datapointsToAlarm = 2 }: AlarmOptions): cloudwatch.Alarm {
    const created = new cloudwatch.Alarm(this, name, {
      metric, threshold, evaluationPeriods, datapointsToAlarm, alarmDescription: description,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    created.addAlarmAction(this.notify);
    return created;
  }
}
