import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { STATE_NAMES } from '../../infra/pipeline/definition.js';
import { resolveDefinition, synthStack, type Asl } from './synth.js';

let template: Template;
let resources: Record<string, { Type: string; Properties: Record<string, any> }>;
let asl: Asl;

beforeAll(() => {
  template = Template.fromStack(synthStack().stack);
  resources = template.toJSON().Resources;
  const [sm] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  asl = JSON.parse(resolveDefinition(sm!.Properties.DefinitionString)) as Asl;
});

const ZONE_BUCKETS = { PrivateBucket: 'PrivateKey', SynthesisBucket: 'SynthesisKey' };
const ALL_BUCKETS = [...Object.keys(ZONE_BUCKETS), 'AccessLogsBucket'];

/** Every IAM statement that applies to a role: its policies' and its inline ones. */
function statementsOf(roleId: string): any[] {
  const found: any[] = [];
  for (const resource of Object.values(resources)) {
    if (resource.Type === 'AWS::IAM::Policy' && JSON.stringify(resource.Properties.Roles).includes(`"${roleId}"`)) {
      found.push(...resource.Properties.PolicyDocument.Statement);
    }
  }
  for (const inline of resources[roleId]?.Properties.Policies ?? []) found.push(...inline.PolicyDocument.Statement);
  return found;
}

const asList = (v: unknown) => (Array.isArray(v) ? v : [v]);

describe('zone storage', () => {
  it.each(ALL_BUCKETS)('%s blocks public access, is versioned and has lifecycle rules', (id) => {
    const props = resources[id]!.Properties;
    expect(props.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(props.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(props.LifecycleConfiguration.Rules.length).toBeGreaterThan(0);
  });

  it.each(ALL_BUCKETS)('%s refuses every request without TLS', (id) => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it.each(Object.entries(ZONE_BUCKETS))(
    '%s is encrypted with its own zone key, with bucket keys, and logs its access',
    (bucketId, keyId) => {
      expect(resources[bucketId]!.Properties.BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] },
            },
          },
        ],
      });
      expect(resources[bucketId]!.Properties.LoggingConfiguration).toMatchObject({
        DestinationBucketName: { Ref: 'AccessLogsBucket' },
      });
    },
  );

  it('expires old versions everywhere and quarantined uploads in the private zone', () => {
    const rules = (id: string) => resources[id]!.Properties.LifecycleConfiguration.Rules as any[];
    for (const id of Object.keys(ZONE_BUCKETS))
      expect(rules(id)).toContainEqual(
        expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 30 } }),
      );
    expect(rules('PrivateBucket')).toContainEqual(
      expect.objectContaining({ Prefix: 'quarantine/', ExpirationInDays: 30, Status: 'Enabled' }),
    );
    expect(rules('SynthesisBucket').some((r) => r.Prefix === 'quarantine/')).toBe(false);
  });

  it('rotates every KMS key', () => {
    const keys = template.findResources('AWS::KMS::Key');
    expect(Object.keys(keys).sort()).toEqual(['OperationsKey', 'PrivateKey', 'SynthesisKey']);
    for (const key of Object.values(keys)) expect(key.Properties.EnableKeyRotation).toBe(true);
  });
});

describe('the privacy boundary, read from the template', () => {
  const SYNTHESIS_PRINCIPALS = [
    'SynthesisJobRole',
    'DescribeJobRole',
    'RecordFailureRole',
    'FilterRole',
    'GateRole',
    'ReportRole',
  ];
  const privateRefs = /"(PrivateBucket|PrivateKey)"/;

  it('finds the private bucket and key in a private role, so the scan below can see them', () => {
    const text = JSON.stringify(statementsOf('PrivateJobRole'));
    expect(text).toMatch(/"PrivateBucket"/);
    expect(text).toMatch(/"PrivateKey"/);
  });

  it.each(SYNTHESIS_PRINCIPALS)(
    '%s holds no statement on the private bucket or key, nor any S3 or KMS wildcard',
    (roleId) => {
      const statements = statementsOf(roleId);
      expect(statements.length).toBeGreaterThan(0);
      for (const statement of statements) {
        expect(JSON.stringify(statement.Resource)).not.toMatch(privateRefs);
        if (asList(statement.Resource).includes('*')) {
          for (const action of asList(statement.Action)) expect(action).not.toMatch(/^(s3|kms):/);
        }
      }
    },
  );

  // The literal '*' above is not the only wildcard: `arn:aws:kms:…:key/*`, `arn:aws:s3:::*` and
  // `s3:Get*` reach every key or bucket of the account, the private zone's included.
  it.each(SYNTHESIS_PRINCIPALS)(
    '%s names its S3 buckets and KMS keys exactly, with no ARN or action wildcard',
    (roleId) => {
      for (const statement of statementsOf(roleId)) {
        const actions = asList(statement.Action) as string[];
        const storage = actions.filter((a) => a === '*' || /^(s3|kms):/.test(a));
        if (storage.length === 0) continue;
        for (const action of storage) expect(action).not.toContain('*');
        for (const arn of asList(statement.Resource).map(resolveDefinition)) {
          if (storage.some((a) => a.startsWith('kms:'))) expect(arn).not.toContain('*');
          // Object keys may hold wildcards inside one named bucket; the bucket itself may not.
          if (storage.some((a) => a.startsWith('s3:'))) expect(arn.split('/')[0]).not.toContain('*');
        }
      }
    },
  );

  it('lets no synthesis principal use the private key through its key policy', () => {
    const policy = JSON.stringify(resources.PrivateKey!.Properties.KeyPolicy);
    for (const roleId of SYNTHESIS_PRINCIPALS) expect(policy).not.toContain(roleId);
  });

  it('makes release the only Lambda that reads private job outputs and writes the synthesis zone', () => {
    const readsPrivateOutputs = (roleId: string) =>
      statementsOf(roleId).some(
        (s) =>
          asList(s.Action).includes('s3:GetObject') &&
          JSON.stringify(s.Resource).match(/"PrivateBucket".*runs\/\*\/(generator|reward|eval)/),
      );
    const lambdaRoles = Object.keys(resources).filter(
      (id) => resources[id]!.Type === 'AWS::IAM::Role' && id.endsWith('Role') && !id.endsWith('JobRole'),
    );
    expect(lambdaRoles.filter(readsPrivateOutputs)).toEqual(['ReleaseRole']);
    // prepare-run publishes only what is not private: the declared-public seeds and run.json (counts, config, plan).
    const prepareWrites = statementsOf('PrepareRunRole')
      .filter(
        (s) => asList(s.Action).includes('s3:PutObject') && JSON.stringify(s.Resource).includes('"SynthesisBucket"'),
      )
      .flatMap((s) =>
        asList(s.Resource).map((r) =>
          JSON.stringify(r)
            .replace(/.*"Arn"\]\},"/, '')
            .replace(/"\]\]\}$/, ''),
        ),
      );
    expect(prepareWrites.sort()).toEqual(['/runs/*/input/seeds.jsonl', '/runs/*/run.json']);
  });

  it('lets prepare-run delete only the outputs it wrote, never an upload or the quarantine', () => {
    const deletable = Object.keys(resources)
      .filter((id) => resources[id]!.Type === 'AWS::IAM::Role')
      .flatMap((roleId) =>
        statementsOf(roleId)
          .filter((s) => asList(s.Action).includes('s3:DeleteObject'))
          .map((s) => ({ roleId, s })),
      );
    expect(new Set(deletable.map((d) => d.roleId))).toEqual(new Set(['PrepareRunRole']));
    const resourcesText = deletable.map((d) => JSON.stringify(d.s.Resource)).join(' ');
    expect(resourcesText).toContain('/runs/*/input/*');
    expect(resourcesText).not.toMatch(/incoming|quarantine/);
  });

  it('lets start-job pass only the two job roles, only to SageMaker, and only for isolated jobs', () => {
    const statements = statementsOf('StartJobRole');
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: 'iam:PassRole',
        Resource: [{ 'Fn::GetAtt': ['PrivateJobRole', 'Arn'] }, { 'Fn::GetAtt': ['SynthesisJobRole', 'Arn'] }],
        Condition: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: ['sagemaker:CreateTrainingJob', 'sagemaker:CreateProcessingJob'],
        Condition: { Bool: { 'sagemaker:NetworkIsolation': 'true' } },
      }),
    );
  });
});

describe('the state machine', () => {
  it('is one Standard workflow with full logging to an encrypted log group and tracing', () => {
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    const sm = resources.StateMachine!.Properties;
    expect(sm.StateMachineType).toBe('STANDARD');
    expect(sm.TracingConfiguration).toEqual({ Enabled: true });
    expect(sm.LoggingConfiguration).toMatchObject({ Level: 'ALL' });
    const logGroupRef = JSON.stringify(sm.LoggingConfiguration.Destinations);
    const [logGroupId] = Object.entries(resources).find(
      ([id, r]) => r.Type === 'AWS::Logs::LogGroup' && logGroupRef.includes(`"${id}"`),
    )!;
    expect(resources[logGroupId]!.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': ['OperationsKey', 'Arn'] });
  });

  it('has every console-named state of the design', () => {
    for (const name of Object.values(STATE_NAMES)) expect(Object.keys(asl.States)).toContain(name);
    expect(asl.StartAt).toBe('Prepare run');
  });

  it('uses JSONPath only: no JSONata, variables, callbacks or .sync integrations', () => {
    const keys = new Set<string>();
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') for (const [k, child] of Object.entries(v)) keys.add(k), walk(child);
    };
    walk(asl);
    for (const forbidden of ['QueryLanguage', 'Arguments', 'Output', 'Assign']) expect(keys.has(forbidden)).toBe(false);
    const text = JSON.stringify(asl);
    expect(text).not.toMatch(/\.sync|waitForTaskToken|\{%/);
  });

  it('invokes every Lambda through lambda:invoke, retries throttling and catches everything into the catch-all', () => {
    const tasks = Object.entries(asl.States).filter(([, s]) => s.Type === 'Task');
    // 11 job steps × (start, check) + 6 Lambda steps + Record failure.
    expect(tasks.length).toBe(29);
    for (const [name, state] of tasks) {
      expect(state.Resource).toBe('arn:<AWS::Partition>:states:::lambda:invoke');
      expect(state.Retry?.flatMap((r) => r.ErrorEquals)).toEqual(
        expect.arrayContaining(['Lambda.ServiceException', 'Lambda.TooManyRequestsException', 'ThrottlingException']),
      );
      if (name === 'Record failure') continue;
      expect(state.Catch).toHaveLength(1);
      const pass = asl.States[state.Catch![0]!.Next]!;
      expect(state.Catch![0]).toMatchObject({ ErrorEquals: ['States.ALL'], ResultPath: '$.error' });
      expect(pass).toMatchObject({ Type: 'Pass', ResultPath: '$.failedState', Next: 'Record failure' });
      // The recorded name is the step's console name: the task's own, or the job step's it belongs to.
      expect(name.startsWith(pass.Result as string)).toBe(true);
    }
    expect(asl.States['Record failure']).toMatchObject({ Next: 'Run failed', ResultPath: '$.failure' });
    expect(asl.States['Run failed']).toEqual({
      Type: 'Fail',
      ErrorPath: '$.failure.error',
      CausePath: '$.failure.cause',
    });
  });

  it('loops refinement rounds on $.round with States.MathAdd, not copies of states', () => {
    expect(asl.States['Next round']).toMatchObject({
      Type: 'Pass',
      Parameters: { 'round.$': 'States.MathAdd($.round, 1)' },
    });
    expect(Object.keys(asl.States).filter((n) => n.startsWith('Refine round')).length).toBe(5);
    const choice = asl.States['Refinement round left?'] as any;
    expect(choice.Choices[0]).toMatchObject({
      Variable: '$.round',
      NumericLessThanEqualsPath: '$.run.rounds',
      Next: 'Refine round',
    });
  });
});

describe('Lambdas and the trigger', () => {
  const FUNCTIONS = [
    'Trigger',
    'PrepareRun',
    'StartJob',
    'DescribeJob',
    'Release',
    'Filter',
    'Gate',
    'Report',
    'RecordFailure',
  ];

  it.each(FUNCTIONS)('%s runs on the newest Node runtime, arm64, traced, in its own role', (name) => {
    const props = resources[`${name}Function`]!.Properties;
    expect(props).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Handler: 'index.handler',
    });
    expect(props.Role).toEqual({ 'Fn::GetAtt': [`${name}Role`, 'Arn'] });
    expect(resources[`${name}Role`]!.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('gives synthesis-zone Lambdas no private bucket or key in their environment', () => {
    for (const name of ['DescribeJob', 'RecordFailure', 'Filter', 'Gate', 'Report']) {
      expect(JSON.stringify(resources[`${name}Function`]!.Properties.Environment)).not.toMatch(
        /PrivateBucket|PrivateKey/,
      );
    }
  });

  it('tells start-job the image, both job roles, the base models and the models prefix', () => {
    const env = resources.StartJobFunction!.Properties.Environment.Variables;
    expect(Object.keys(env)).toEqual(
      expect.arrayContaining([
        'JOB_IMAGE_URI',
        'PRIVATE_JOB_ROLE_ARN',
        'SYNTHESIS_JOB_ROLE_ARN',
        'PROXY_BASE_MODEL_URI',
        'TARGET_BASE_MODEL_URI',
        'MODELS_PREFIX_URI',
        'PRIVATE_BUCKET',
        'SYNTHESIS_KEY_ARN',
      ]),
    );
    expect(env.PROXY_BASE_MODEL_URI).toBe('s3://rewardds-public-models/qwen2.5-0.5b-instruct/');
    expect(JSON.stringify(env.JOB_IMAGE_URI)).toContain('container-assets');
  });

  it('starts runs from Object Created events under incoming/ of the private bucket', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: { bucket: { name: [{ Ref: 'PrivateBucket' }] }, object: { key: [{ prefix: 'incoming/' }] } },
      },
      Targets: [
        Match.objectLike({ Arn: { 'Fn::GetAtt': ['TriggerFunction', 'Arn'] }, DeadLetterConfig: Match.anyValue() }),
      ],
    });
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: 'PrivateBucket' },
      NotificationConfiguration: { EventBridgeConfiguration: {} },
    });
    expect(resources.TriggerFunction!.Properties.Environment.Variables.STATE_MACHINE_ARN).toEqual({
      Ref: 'StateMachine',
    });
    const statements = JSON.stringify(statementsOf('TriggerRole'));
    expect(statements).toContain('states:StartExecution');
    expect(statements).toContain('states:DescribeExecution');
  });

  it('alarms on failed runs through an encrypted topic', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsFailed',
      Namespace: 'AWS/States',
      Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: 'StateMachine' } }],
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
    expect(resources.AlarmTopic!.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': ['OperationsKey', 'Arn'] });
  });
});
