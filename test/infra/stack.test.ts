import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { jobNamePrefix } from '../../core/sagemaker/index.js';
import { STATE_NAMES } from '../../infra/pipeline/definition.js';
import { localNames, stateMachineOf, type StackTemplate } from '../../local/asl.js';
import { resolveDefinition, defaultTemplateJson, TEST_MODELS, type Asl } from './synth.js';

let template: Template;
let resources: Record<string, { Type: string; Properties: Record<string, any> }>;
let asl: Asl;

beforeAll(async () => {
  template = Template.fromJSON(await defaultTemplateJson());
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
  /** Write-only on the private zone: put a job record, or the data key S3 needs to encrypt it. */
  const depositsJobRecord = (s: any) => {
    const actions = asList(s.Action).sort();
    const resource = JSON.stringify(s.Resource);
    if (actions.join() === 's3:AbortMultipartUpload,s3:PutObject')
      return /^\[?\{"Fn::Join":\["",\[\{"Fn::GetAtt":\["PrivateBucket","Arn"\]\},"\/runs\/\*\/jobs\/\*"\]\]\}\]?$/.test(
        resource,
      );
    return actions.join() === 'kms:GenerateDataKey' && /^\{"Fn::GetAtt":\["PrivateKey","Arn"\]\}$/.test(resource);
  };

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
      for (const statement of statements.filter((s) => !(roleId === 'DescribeJobRole' && depositsJobRecord(s)))) {
        expect(JSON.stringify(statement.Resource)).not.toMatch(privateRefs);
        if (asList(statement.Resource).includes('*')) {
          for (const action of asList(statement.Action)) expect(action).not.toMatch(/^(s3|kms):/);
        }
      }
    },
  );

  it('lets describe-job only deposit private jobs’ timing records: put under runs/*/jobs/, encrypt, nothing else', () => {
    const onPrivate = statementsOf('DescribeJobRole').filter((s) => privateRefs.test(JSON.stringify(s.Resource)));
    expect(onPrivate.length).toBe(2);
    for (const s of onPrivate) expect(depositsJobRecord(s)).toBe(true);
  });

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

  it('lets release read the canary audit’s result but never the private input/, where the canary secrets are', () => {
    const privateReads = statementsOf('ReleaseRole')
      .filter(
        (s) => asList(s.Action).includes('s3:GetObject') && JSON.stringify(s.Resource).includes('"PrivateBucket"'),
      )
      .flatMap((s) =>
        asList(s.Resource).map((r) =>
          JSON.stringify(r)
            .replace(/.*"Arn"\]\},"/, '')
            .replace(/"\]\]\}$/, ''),
        ),
      );
    expect(privateReads.sort()).toEqual([
      '/runs/*/audit/*',
      '/runs/*/eval/*',
      '/runs/*/generator/*',
      '/runs/*/reward/*',
      '/runs/*/run.json',
    ]);
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
    // Describe-before-create (functions/start-job/existing-job.ts) needs to read its own jobs.
    expect(statements).toContainEqual(
      expect.objectContaining({ Action: ['sagemaker:DescribeTrainingJob', 'sagemaker:DescribeProcessingJob'] }),
    );
  });
});

describe('the report Lambda', () => {
  it('has the Lambda maximum of 15 minutes and 3 GB, sized for M = 100,000 (infra/constructs/pipeline.ts)', () => {
    expect(resources.ReportFunction!.Properties).toMatchObject({ Timeout: 900, MemorySize: 3008 });
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
      else if (v && typeof v === 'object')
        for (const [k, child] of Object.entries(v)) {
          keys.add(k);
          walk(child);
        }
    };
    walk(asl);
    for (const forbidden of ['QueryLanguage', 'Arguments', 'Output', 'Assign']) expect(keys.has(forbidden)).toBe(false);
    const text = JSON.stringify(asl);
    expect(text).not.toMatch(/\.sync|waitForTaskToken|\{%/);
  });

  it('invokes every Lambda through lambda:invoke, retries throttling and catches everything into the catch-all', () => {
    const tasks = Object.entries(asl.States).filter(([, s]) => s.Type === 'Task');
    // 12 job steps × (start, check) + 7 Lambda steps + Record failure.
    expect(tasks.length).toBe(32);
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
    // describe-job knows the private bucket to deposit private jobs' timing there (write-only, tested above).
    for (const name of ['RecordFailure', 'Filter', 'Gate', 'Report']) {
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

describe('alarm delivery', () => {
  it('lets CloudWatch publish to the alarm topic, only for this stack’s alarms in this account', () => {
    const [policy] = Object.values(
      template.findResources('AWS::SNS::TopicPolicy', { Properties: { Topics: [{ Ref: 'AlarmTopic' }] } }),
    );
    const allows = (policy!.Properties.PolicyDocument.Statement as any[]).filter((s) => s.Effect === 'Allow');
    const alarms = Object.keys(template.findResources('AWS::CloudWatch::Alarm')).filter((id) =>
      JSON.stringify(resources[id]!.Properties.AlarmActions).includes('"AlarmTopic"'),
    );
    expect(alarms.length).toBe(4);
    expect(allows).toEqual([
      expect.objectContaining({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: 'AlarmTopic' },
        Condition: {
          StringEquals: { 'aws:SourceAccount': '111122223333' },
          ArnLike: { 'aws:SourceArn': alarms.map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] })) },
        },
      }),
    ]);
    // The TLS-only deny stays: the allow must not replace it.
    expect(policy!.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });
});

describe('trigger dead letters', () => {
  it('lets the trigger role send to its KMS-encrypted dead-letter queue: SQS and the queue key', () => {
    const queue = resources.TriggerDeadLetters!.Properties;
    expect(resources.TriggerFunction!.Properties.DeadLetterConfig).toEqual({
      TargetArn: { 'Fn::GetAtt': ['TriggerDeadLetters', 'Arn'] },
    });
    const keyArn = queue.KmsMasterKeyId;
    expect(keyArn).toEqual({ 'Fn::GetAtt': ['OperationsKey', 'Arn'] });
    const statements = statementsOf('TriggerRole');
    const allowed = (action: string, resource: unknown) =>
      statements.some(
        (s) =>
          s.Effect === 'Allow' &&
          asList(s.Action).includes(action) &&
          asList(s.Resource).some((r) => JSON.stringify(r) === JSON.stringify(resource)),
      );
    expect(allowed('sqs:SendMessage', { 'Fn::GetAtt': ['TriggerDeadLetters', 'Arn'] })).toBe(true);
    // SQS encrypts each message with a data key from the queue's key, asked for as the sender.
    expect(allowed('kms:GenerateDataKey', keyArn)).toBe(true);
    expect(allowed('kms:Decrypt', keyArn)).toBe(true);
  });
});

describe('base models', () => {
  it.each(['PrivateJobRole', 'SynthesisJobRole'])(
    '%s reads the base models only from a bucket owned by the deploying account',
    (roleId) => {
      const modelStatements = statementsOf(roleId).filter((s) =>
        JSON.stringify(s.Resource).includes(`:s3:::${TEST_MODELS.bucket}`),
      );
      expect(modelStatements.map((s) => s.Action).sort()).toEqual(['s3:GetObject', 's3:ListBucket']);
      for (const s of modelStatements)
        expect(s.Condition?.StringEquals).toEqual({ 's3:ResourceAccount': '111122223333' });
    },
  );

  it('hands start-job the base models the deployer named', () => {
    const env = resources.StartJobFunction!.Properties.Environment.Variables;
    expect(env.PROXY_BASE_MODEL_URI).toBe(TEST_MODELS.generatorBaseModel);
    expect(env.TARGET_BASE_MODEL_URI).toBe(TEST_MODELS.targetBaseModel);
  });
});

describe('zone separation by explicit deny (private bucket and key)', () => {
  const BREAK_GLASS = ':role/RewardDS-private-break-glass';
  // Object and listing actions, and key use; not bucket configuration (the notification handler sets that).
  const DATA_ACTION = /^(s3:(GetObject|PutObject|DeleteObject|ListBucket|RestoreObject|AbortMultipartUpload)|kms:)/;
  const privateRef = /"(PrivateBucket|PrivateKey)"/;
  const WRITE_ONLY = /^(s3:(PutObject|AbortMultipartUpload)|kms:GenerateDataKey)$/;
  /** Roles the template lets do `action`s on anything of the private zone. */
  const rolesThat = (action: (a: string) => boolean) =>
    Object.keys(resources)
      .filter((id) => resources[id]!.Type === 'AWS::IAM::Role')
      .filter((id) =>
        statementsOf(id).some(
          (s) => s.Effect === 'Allow' && privateRef.test(JSON.stringify(s.Resource)) && asList(s.Action).some(action),
        ),
      )
      .sort();
  /** Roles the template lets read, list, delete or decrypt anything of the private zone. */
  const privateRoles = () => rolesThat((a) => DATA_ACTION.test(a) && !WRITE_ONLY.test(a));
  /** Roles that may only deposit objects there. */
  const writeOnlyRoles = () => rolesThat((a) => DATA_ACTION.test(a)).filter((id) => !privateRoles().includes(id));
  const denies = (document: any) =>
    (document.Statement as any[]).filter((s) => s.Effect === 'Deny' && s.Condition?.ArnNotLike);
  const exempted = (statement: any) => asList(statement.Condition.ArnNotLike['aws:PrincipalArn']);
  const sortedRefs = (refs: any[]) => [...refs].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

  it('finds the private-zone roles from their grants', () => {
    expect(privateRoles()).toEqual(['PrepareRunRole', 'PrivateJobRole', 'ReleaseRole', 'StartJobRole']);
    expect(writeOnlyRoles()).toEqual(['DescribeJobRole']);
  });

  it('denies every object read, delete and listing of the private bucket to anyone but those roles and break-glass', () => {
    const [policy] = Object.values(
      template.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: { Ref: 'PrivateBucket' } } }),
    );
    const statements = denies(policy!.Properties.PolicyDocument);
    expect(statements.length).toBe(3);
    const refs = (ids: string[]) => sortedRefs(ids.map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] })));
    const [objects, writes, listing] = statements;
    for (const s of statements) {
      expect(s.Principal).toEqual({ AWS: '*' });
      const list = exempted(s);
      // Write-only roles are exempt from the write deny alone: reading, deleting and listing stay denied to them.
      const exemptIds = s === writes ? [...privateRoles(), ...writeOnlyRoles()] : privateRoles();
      expect(sortedRefs(list.slice(0, -1))).toEqual(refs(exemptIds));
      expect(JSON.stringify(list.at(-1))).toContain(BREAK_GLASS);
    }
    // Everything on objects but uploading: uploaders (the data owner) may put, never read back.
    expect(objects.NotAction).toEqual(['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts']);
    expect(JSON.stringify(objects.Resource)).toMatch(/"PrivateBucket","Arn"\]\},"\/\*"/);
    // Uploads land only under incoming/.
    expect(writes.Action).toEqual(['s3:PutObject', 's3:AbortMultipartUpload']);
    expect(JSON.stringify(writes.NotResource)).toMatch(/"PrivateBucket","Arn"\]\},"\/incoming\/\*"/);
    expect(listing.Action).toEqual(['s3:ListBucket', 's3:ListBucketVersions', 's3:ListBucketMultipartUploads']);
    expect(listing.Resource).toEqual({ 'Fn::GetAtt': ['PrivateBucket', 'Arn'] });
    // Bucket configuration stays with CloudFormation and the notification handler: no bucket-level action is denied.
    for (const s of statements)
      for (const a of asList(s.Action ?? [])) expect(a).not.toMatch(/^s3:(PutBucket|DeleteBucket|GetBucket)/);
  });

  it('denies direct use of the private key to anyone but those roles and break-glass, and leaves key management alone', () => {
    const statements = denies(resources.PrivateKey!.Properties.KeyPolicy);
    expect(statements.length).toBe(1);
    const [s] = statements;
    expect(sortedRefs(exempted(s).slice(0, -1))).toEqual(privateRoles().map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] })));
    expect(JSON.stringify(exempted(s).at(-1))).toContain(BREAK_GLASS);
    expect(s.Action).toEqual(
      expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*', 'kms:CreateGrant']),
    );
    for (const a of asList(s.Action))
      expect(a).not.toMatch(
        /^kms:(Put|Schedule|Cancel|Enable|Disable|Describe|Get|Tag|Untag|Update|Create(Key|Alias))/,
      );
    // Calls S3 or SageMaker make on a caller's behalf are left to the bucket policy above, which S3 enforces first.
    expect(s.Condition.Null).toEqual({ 'kms:ViaService': 'true' });
    // The root statement that lets the account (and CloudFormation) manage the key is still there.
    expect(resources.PrivateKey!.Properties.KeyPolicy.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Allow', Action: 'kms:*' }),
    );
  });

  it('leaves the synthesis zone without such a deny (its data is DP output, read by operators)', () => {
    expect(denies(resources.SynthesisKey!.Properties.KeyPolicy)).toEqual([]);
  });
});

describe('job names of this stack', () => {
  const prefix = jobNamePrefix('RewardDS');
  const jobArn = (kind: string) => ({
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:sagemaker:us-east-1:111122223333:${kind}/${prefix}*`]],
  });

  it('tells start-job the prefix derived from the stack name', () => {
    expect(resources.StartJobFunction!.Properties.Environment.Variables.JOB_NAME_PREFIX).toBe(prefix);
  });

  it.each(['StartJobRole', 'DescribeJobRole', 'RecordFailureRole'])(
    '%s reaches only jobs named with this stack’s prefix',
    (roleId) => {
      const sagemaker = statementsOf(roleId).filter((s) =>
        asList(s.Action).some((a: string) => a.startsWith('sagemaker:')),
      );
      expect(sagemaker.length).toBeGreaterThan(0);
      for (const s of sagemaker) expect(s.Resource).toEqual([jobArn('training-job'), jobArn('processing-job')]);
    },
  );
});

describe('redeploying after destroy', () => {
  it('names the retained state-machine log group per stack creation, so a redeploy never meets the old one', () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup')).filter(
      (g) => g.Properties.LogGroupName !== undefined,
    );
    expect(groups.length).toBe(1);
    const [group] = groups;
    expect(group!.DeletionPolicy).toBe('Retain');
    // A fixed name would still exist after `cdk destroy` (retained) and fail the next create.
    const name = JSON.stringify(group!.Properties.LogGroupName);
    expect(name).toContain('/aws/vendedlogs/states/RewardDS-pipeline-');
    expect(name).toContain('{"Ref":"AWS::StackId"}');
    // Every other log group gets its name from CloudFormation.
    for (const g of Object.values(template.findResources('AWS::Logs::LogGroup')))
      if (g !== group) expect(g.Properties.LogGroupName).toBeUndefined();
  });
});

describe('docs/operations.md agrees with the template', () => {
  const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');

  it('gives the throttling retries the definition has', () => {
    const [, state] = Object.entries(asl.States).find(([, s]) => s.Type === 'Task')!;
    const retry = (state.Retry as any[]).find((r) => r.ErrorEquals.includes('ThrottlingException'));
    const row = doc.split('\n').find((line) => line.startsWith('| `ThrottlingException`'))!;
    expect(row).toContain(`${retry.MaxAttempts + 1} tries`);
    expect(row).toContain(`${retry.IntervalSeconds} s`);
  });

  it('shows a job name in the format jobName builds, with this stack’s prefix', () => {
    const example = /`(rewardds-[0-9a-f]{6}-[a-z]{2}\d*-[0-9a-f]{8}-a\d+)`/.exec(doc)?.[1];
    expect(example?.startsWith(jobNamePrefix('RewardDS'))).toBe(true);
    expect(example).toMatch(/^[a-z0-9-]+-(tg|bp|tr|sq|sc|ss|tt\d+|rf\d+|ev)-[0-9a-f]{8}-a\d+$/);
  });

  it('names the state machine log group as the template does', () => {
    expect(doc).toContain('/aws/vendedlogs/states/<stack>-pipeline-<stack id>');
  });
});

describe('the definition against the States Language (asl-validator)', () => {
  interface AslValidation {
    isValid: boolean;
    errors: { message: string; path?: string }[];
    errorsText: (separator?: string) => string;
  }
  // CommonJS without type declarations: typed here, at the one place it is called.
  const validate = createRequire(import.meta.url)('asl-validator') as (
    definition: unknown,
    options?: { checkPaths?: boolean; checkArn?: boolean },
  ) => AslValidation;
  /** The DefinitionString as plain ASL, every reference resolved the way local mode resolves it. */
  const resolved = () => {
    const templates = [template.toJSON() as StackTemplate];
    return stateMachineOf(templates, localNames(templates)).definition;
  };

  it('is valid ASL, Resource ARNs and JSONPath expressions included', () => {
    const result = validate(resolved(), { checkPaths: true, checkArn: true });
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('is refused when broken (the validator really checks): a Next to no state, a bad path', () => {
    const broken = structuredClone(resolved());
    broken.States['Release DP models']!.Next = 'No such state';
    expect(validate(broken).isValid).toBe(false);
    const badPath = structuredClone(resolved());
    badPath.States['Release DP models']!.ResultPath = 'release';
    expect(validate(badPath).isValid).toBe(false);
  });
});
