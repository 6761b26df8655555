/**
 * Where alarms, GPU capacity failures and budget warnings go: one SNS topic under a KMS key of our own (CloudWatch
 * cannot publish to a topic under the AWS-managed SNS key), with an e-mail subscription when the stage names one.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlarmTopicProps {
  email?: string;
}

/** The services that publish to the topic: alarms, EventBridge rules, AWS Budgets. */
const PUBLISHERS = ['cloudwatch.amazonaws.com', 'events.amazonaws.com', 'budgets.amazonaws.com'];

export class AlarmTopic extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    const key = new kms.Key(this, 'AlarmTopicKey', { enableKeyRotation: true, description: 'edge-maas alarm topic' });
    for (const service of PUBLISHERS) key.grantEncryptDecrypt(new iam.ServicePrincipal(service));
    this.topic = new sns.Topic(this, 'Alarms', { enforceSSL: true, masterKey: key });
    // Alarms publish through their alarm actions' own grant; Budgets needs the topic policy to say so.
    this.topic.addToResourcePolicy(new iam.PolicyStatement({
      actions: ['sns:Publish'], principals: [new iam.ServicePrincipal('budgets.amazonaws.com')], resources: [this.topic.topicArn],
    }));
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
  }
}
