/**
 * The stage's network: two AZs with one NAT gateway, flow logs kept for the stage's log retention, and a free S3
 * gateway endpoint, so that model weights and image layers (ECR keeps them in S3) reach the private subnets
 * without crossing the NAT gateway.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface NetworkProps {
  /** Days to keep the flow logs. */
  logRetentionDays: number;
}

export class Network extends Construct {
  readonly vpc: ec2.Vpc;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', { retention: props.logRetentionDays, removalPolicy: RemovalPolicy.DESTROY });
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 1,
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
      flowLogs: { all: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs) } },
    });
  }
}
