import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createHandler } from '../../functions/trigger/handler.js';
import { runName } from '../../core/contract/index.js';
import { loadEvent } from '../helpers/fixtures/events/load.js';
import { recordingLogger } from '../helpers/memory-s3.js';

const config = {
  privateBucket: 'rewardds-private-111122223333',
  stateMachineArn: 'arn:aws:states:eu-west-1:111122223333:stateMachine:rewardds',
};

/** Step Functions as far as names go: a second StartExecution with a known name is refused. */
function fakeStepFunctions() {
  const sfn = new SFNClient({ region: 'eu-west-1' });
  const mock = mockClient(sfn);
  const executions = new Map<string, string>();
  mock.on(StartExecutionCommand).callsFake(async (input) => {
    if (executions.has(input.name!)) {
      throw new ExecutionAlreadyExists({
        message: `Execution Already Exists: '${input.name}'`,
        $metadata: { httpStatusCode: 400 },
      });
    }
    executions.set(input.name!, input.input!);
    return {
      executionArn: `arn:aws:states:eu-west-1:111122223333:execution:rewardds:${input.name}`,
      startDate: new Date(),
    };
  });
  return { sfn, mock, executions };
}

/** The part of a sample event the tests change (etag optional: one test deletes it). */
interface ObjectCreated {
  detail: { bucket: { name: string }; object: { key: string; etag?: string } };
}

describe('trigger', () => {
  let fake: ReturnType<typeof fakeStepFunctions>;
  let logger: ReturnType<typeof recordingLogger>;
  beforeEach(() => {
    fake = fakeStepFunctions();
    logger = recordingLogger();
  });

  it('starts the execution with the readable idempotent name and the upload as input', async () => {
    const event = loadEvent<ObjectCreated>('s3-object-created');
    const result = await createHandler({ sfn: fake.sfn, config, logger })(event);

    const runId = runName('incoming/Clinic QA (March).jsonl', 'b1946ac92492d2347c6235b4d2611184');
    expect(runId).toMatch(/^clinic-qa-march-[0-9a-f]{8}$/);
    const calls = fake.mock.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      stateMachineArn: config.stateMachineArn,
      name: runId,
      input: JSON.stringify({
        runId,
        upload: {
          bucket: 'rewardds-private-111122223333',
          key: 'incoming/Clinic QA (March).jsonl',
          etag: 'b1946ac92492d2347c6235b4d2611184',
        },
      }),
    });
    expect(result).toEqual({
      started: true,
      runId,
      executionArn: `arn:aws:states:eu-west-1:111122223333:execution:rewardds:${runId}`,
    });
  });

  it('starts a folder upload under the folder name', async () => {
    const result = await createHandler({ sfn: fake.sfn, config })(loadEvent<ObjectCreated>('s3-object-created-folder'));
    expect(result.started).toBe(true);
    expect(fake.mock.commandCalls(StartExecutionCommand)[0]!.args[0].input.name).toMatch(/^bank-faq-[0-9a-f]{8}$/);
  });

  it('starts nothing new for a repeated event and reports success', async () => {
    const handler = createHandler({ sfn: fake.sfn, config, logger });
    const first = await handler(loadEvent<ObjectCreated>('s3-object-created'));
    const second = await handler(loadEvent<ObjectCreated>('s3-object-created'));
    expect(first.started).toBe(true);
    expect(second).toEqual({ started: false, runId: (first as { runId: string }).runId, reason: 'already started' });
    expect(fake.executions.size).toBe(1);
    expect(logger.lines.some((l) => l.includes('already started'))).toBe(true);
  });

  it('starts a new run when the same key is uploaded again with new content (new ETag)', async () => {
    const handler = createHandler({ sfn: fake.sfn, config });
    const event = loadEvent<ObjectCreated>('s3-object-created');
    await handler(event);
    event.detail.object.etag = 'c4ca4238a0b923820dcc509a6f75849b';
    const again = await handler(event);
    expect(again.started).toBe(true);
    expect(fake.executions.size).toBe(2);
  });

  it.each([
    'incoming/bank-faq/config.json',
    'incoming/bank-faq/seeds.jsonl',
    'incoming/bank-faq/test.jsonl',
    'incoming/readme.txt',
  ])('ignores %s with a log line', async (key) => {
    const event = loadEvent<ObjectCreated>('s3-object-created-folder');
    event.detail.object.key = key;
    const result = await createHandler({ sfn: fake.sfn, config, logger })(event);
    expect(result).toEqual({ started: false, reason: 'ignored', key });
    expect(fake.mock.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(logger.lines.some((l) => l.includes('ignored') && l.includes(key))).toBe(true);
  });

  it('ignores objects of any other bucket', async () => {
    const event = loadEvent<ObjectCreated>('s3-object-created');
    event.detail.bucket.name = 'someone-else';
    expect((await createHandler({ sfn: fake.sfn, config })(event)).started).toBe(false);
    expect(fake.mock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('refuses an event that is not Object Created, naming the field', async () => {
    const event = loadEvent<ObjectCreated>('s3-object-created');
    delete event.detail.object.etag;
    await expect(createHandler({ sfn: fake.sfn, config })(event)).rejects.toThrow(/detail\.object\.etag/);
  });

  it('passes other Step Functions errors on', async () => {
    fake.mock
      .on(StartExecutionCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(
      createHandler({ sfn: fake.sfn, config })(loadEvent<ObjectCreated>('s3-object-created')),
    ).rejects.toThrow(/Rate exceeded/);
  });
});
