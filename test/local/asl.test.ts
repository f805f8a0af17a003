import { describe, expect, it } from 'vitest';
import {
  lambdaEnvironments,
  lambdaTasks,
  localBucketName,
  localNames,
  resolveIntrinsics,
  stateMachineOf,
  TemplateError,
  type StackTemplate,
} from '../../local/asl.js';

/** The shape CDK synthesizes: a definition string joined around partition refs and function ARNs. */
const template: StackTemplate = {
  Resources: {
    PrivateBucketA1B2C3D4: { Type: 'AWS::S3::Bucket', Properties: {} },
    PrivateKey0F0F0F0F: { Type: 'AWS::KMS::Key', Properties: {} },
    PrepareRunFnAAAA1111: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Environment: {
          Variables: {
            PRIVATE_BUCKET: { Ref: 'PrivateBucketA1B2C3D4' },
            PRIVATE_KEY_ARN: { 'Fn::GetAtt': ['PrivateKey0F0F0F0F', 'Arn'] },
            // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax, not a template
            MODELS: { 'Fn::Sub': 's3://${PrivateBucketA1B2C3D4}/models/' },
            // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax, not a template
            IMAGE: { 'Fn::Sub': '${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/repo:tag' },
          },
        },
      },
    },
    PipelineStateMachineBBBB2222: {
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: {
        DefinitionString: {
          'Fn::Join': [
            '',
            [
              '{"StartAt":"Prepare run","States":{"Prepare run":{"Type":"Task","Resource":"arn:',
              { Ref: 'AWS::Partition' },
              ':states:::lambda:invoke","Parameters":{"FunctionName":"',
              { 'Fn::GetAtt': ['PrepareRunFnAAAA1111', 'Arn'] },
              '","Payload.$":"$"},"End":true}}}',
            ],
          ],
        },
      },
    },
  },
};

describe('asl: from the synthesized template to local ASL', () => {
  const names = localNames([template], { PrivateKey0F0F0F0F: 'arn:aws:kms:us-east-1:123456789012:key/abc-123' });

  it('names buckets readably from their logical ids', () => {
    expect(localBucketName('PrivateBucketA1B2C3D4')).toBe('rewardds-local-private-bucket');
    expect(names.refs.PrivateBucketA1B2C3D4).toBe('rewardds-local-private-bucket');
  });

  it('resolves the definition string to plain ASL and maps each Lambda task to its function', () => {
    const machine = stateMachineOf([template], names);
    expect(machine.logicalId).toBe('PipelineStateMachineBBBB2222');
    expect(machine.definition.States['Prepare run']).toEqual({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: {
        FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:PrepareRunFnAAAA1111',
        'Payload.$': '$',
      },
      End: true,
    });
    expect(machine.tasks).toEqual([
      { state: 'Prepare run', functionId: 'PrepareRunFnAAAA1111', integration: 'invoke' },
    ]);
  });

  it('gives each Lambda its environment with local names and the moto key ARN', () => {
    expect(lambdaEnvironments([template], names).PrepareRunFnAAAA1111).toEqual({
      PRIVATE_BUCKET: 'rewardds-local-private-bucket',
      PRIVATE_KEY_ARN: 'arn:aws:kms:us-east-1:123456789012:key/abc-123',
      MODELS: 's3://rewardds-local-private-bucket/models/',
      IMAGE: '000000000000.dkr.ecr.us-east-1.amazonaws.com/repo:tag',
    });
  });

  it('resolves imports across stacks and refuses what it cannot stand in for', () => {
    const exporter: StackTemplate = {
      Resources: { ZoneBucket12345678: { Type: 'AWS::S3::Bucket' } },
      Outputs: { Out: { Value: { 'Fn::GetAtt': ['ZoneBucket12345678', 'Arn'] }, Export: { Name: 'zone:bucket' } } },
    };
    const n = localNames([exporter]);
    expect(resolveIntrinsics({ 'Fn::ImportValue': 'zone:bucket' }, n)).toBe('arn:aws:s3:::rewardds-local-zone-bucket');
    expect(() => resolveIntrinsics({ Ref: 'Nope' }, n)).toThrow(TemplateError);
    expect(() => resolveIntrinsics({ 'Fn::FindInMap': ['a', 'b', 'c'] }, n)).toThrow(/not supported/);
  });

  it('refuses JSONata and non-Lambda tasks, which the local engine cannot run', () => {
    expect(() =>
      lambdaTasks({ StartAt: 'A', QueryLanguage: 'JSONata', States: { A: { Type: 'Pass', End: true } } }),
    ).toThrow(/JSONata/);
    expect(() => lambdaTasks({ StartAt: 'A', States: { A: { Type: 'Pass', Assign: { x: 1 }, End: true } } })).toThrow(
      /Assign/,
    );
    expect(() =>
      lambdaTasks({
        StartAt: 'A',
        States: { A: { Type: 'Task', Resource: 'arn:aws:states:::sagemaker:createTrainingJob.sync', End: true } },
      }),
    ).toThrow(/no local stand-in/);
    const nested = lambdaTasks({
      StartAt: 'P',
      States: {
        P: {
          Type: 'Parallel',
          End: true,
          Branches: [
            {
              StartAt: 'B',
              States: {
                B: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:Fn1', End: true },
              },
            },
          ],
        },
      },
    });
    expect(nested).toEqual([{ state: 'B', functionId: 'Fn1', integration: 'direct' }]);
  });
});
