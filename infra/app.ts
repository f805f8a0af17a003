/**
 * `npx cdk synth|deploy`: the RewardDS app. Settings come from context (`-c key=value`,
 * see docs/operations.md); the account and region from the CLI's environment.
 */
import { App } from 'aws-cdk-lib';
import { RewardDsStack } from './rewardds-stack.js';

const app = new App();
const stackName = (app.node.tryGetContext('rewardds:stackName') as string | undefined) ?? 'RewardDS';
new RewardDsStack(app, stackName, {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: 'RewardDS: differentially private synthetic data and target fine-tuning on Step Functions and SageMaker',
});
app.synth();
