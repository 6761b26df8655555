/**
 * The GPU service's public HTTPS endpoint, closed to strangers: the listener forwards only requests that carry the
 * shared upstream key (`Authorization: Bearer <key>`, the key generated in Secrets Manager) and answers everything
 * else with a fixed 403, so a stranger can neither use the GPUs nor wake them. AWS WAF limits requests per client
 * IP in front of that. vLLM checks the same key itself (VLLM_API_KEY, generation-container.ts).
 */
import { Duration, SecretValue } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { acknowledge } from './nag-suppressions.js';

export const STREAM_IDLE_TIMEOUT = Duration.seconds(600);
/** The header the router sends the key in: vLLM's own API-key check reads the same one. */
export const UPSTREAM_KEY_HEADER = 'Authorization';

export interface GpuEndpointProps {
  vpc: ec2.IVpc;
  /** The port the generation tasks listen on: the target group forwards to it. */
  port: number;
  /** For the HTTPS listener: in the stack's region, covering the name the router calls. */
  certificate: acm.ICertificate;
  accessLogs: s3.IBucket;
  /** Seconds a target keeps its streams after deregistration (scale-in, deploys). */
  deregistrationDelay: Duration;
  wafRequestsPer5Min: number;
}

export class GpuEndpoint extends Construct {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly securityGroup: ec2.SecurityGroup;
  /** The key the router (and the edge Worker) must send; vLLM requires it too. Reading it: grantInvoke. */
  readonly upstreamKey: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: GpuEndpointProps) {
    super(scope, id);
    this.upstreamKey = new secretsmanager.Secret(this, 'UpstreamKey', {
      description: 'edge-maas: the key the router sends to the GPU service',
      // Alphanumeric: the listener compares it with wildcards (* and ?) enabled, and case-insensitively.
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
    });
    acknowledge(this.upstreamKey, [['AwsSolutions-SMG4', 'CloudFormation resolves the key into the listener rule when the rule is updated, so a rotation Lambda would lock the router out; rotation is a manual step (docs/DEPLOY.md).']]);

    this.securityGroup = new ec2.SecurityGroup(this, 'AlbSg', { vpc: props.vpc, description: 'Public HTTPS', allowAllOutbound: true });
    this.securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS from anywhere; the listener refuses requests without the key');
    acknowledge(this.securityGroup, [['AwsSolutions-EC23', 'The router on Lambda and the edge Worker have no fixed addresses: 443 is open, and the listener admits only requests with the upstream key.']]);
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      vpc: props.vpc,
      internetFacing: true,
      securityGroup: this.securityGroup,
      idleTimeout: STREAM_IDLE_TIMEOUT,
      dropInvalidHeaderFields: true,
    });
    this.loadBalancer.logAccessLogs(props.accessLogs, 'alb');
    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'Targets', {
      vpc: props.vpc,
      port: props.port,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      deregistrationDelay: props.deregistrationDelay,
      healthCheck: { path: '/health', healthyHttpCodes: '200', interval: Duration.seconds(15), healthyThresholdCount: 2, unhealthyThresholdCount: 3 },
    });
    const listener = this.loadBalancer.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      sslPolicy: elbv2.SslPolicy.TLS13_RES,
      certificates: [props.certificate],
      defaultAction: elbv2.ListenerAction.fixedResponse(403, {
        contentType: 'application/json',
        messageBody: JSON.stringify({ error: { message: 'forbidden', type: 'invalid_request_error', code: 'forbidden', param: null } }),
      }),
    });
    // CloudFormation resolves the key into the rule at deploy time; the template holds only the reference.
    const key = SecretValue.secretsManager(this.upstreamKey.secretArn).unsafeUnwrap();
    listener.addAction('WithUpstreamKey', {
      priority: 10,
      conditions: [elbv2.ListenerCondition.httpHeader(UPSTREAM_KEY_HEADER, [`Bearer ${key}`])],
      action: elbv2.ListenerAction.forward([this.targetGroup]),
    });

    const visibility = (metricName: string) => ({ cloudWatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true });
    const acl = new wafv2.CfnWebACL(this, 'Waf', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('edge-maas-gpu'),
      rules: [{
        name: 'RequestsPerIp',
        priority: 0,
        action: { block: {} },
        statement: { rateBasedStatement: { limit: props.wafRequestsPer5Min, aggregateKeyType: 'IP', evaluationWindowSec: 300 } },
        visibilityConfig: visibility('edge-maas-gpu-rate'),
      }],
    });
    new wafv2.CfnWebACLAssociation(this, 'WafAssociation', { resourceArn: this.loadBalancer.loadBalancerArn, webAclArn: acl.attrArn });
  }

  /** Lets `grantee` call the endpoint: the listener forwards only requests with the upstream key, so it may read the key. */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.upstreamKey.grantRead(grantee);
  }
}
