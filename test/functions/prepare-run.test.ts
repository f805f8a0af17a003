import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/core/serde';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createKmsKey, s3ClientFor, startS3Server, type S3Server } from '../../local/s3-server.js';
import { configFromEnv, createHandler, InputRejected } from '../../functions/prepare-run/handler.js';
import { cryptoSecret } from '../../functions/prepare-run/prepare.js';
import type { PrivacyPlan } from '../../core/privacy/index.js';
import { loadEvent } from '../helpers/fixtures/events/load.js';
import { memoryS3, recordingLogger, recordingMetrics } from '../helpers/memory-s3.js';

const PRIVATE = 'rewardds-private-111122223333';
const SYNTHESIS = 'rewardds-synthesis-111122223333';
const PRIVATE_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/private-0001';
const SYNTHESIS_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/synthesis-0001';
const config = {
  privateBucket: PRIVATE,
  synthesisBucket: SYNTHESIS,
  privateKeyArn: PRIVATE_KEY,
  synthesisKeyArn: SYNTHESIS_KEY,
};
const NOW = new Date('2026-03-02T09:15:00.000Z');
const SECRET = 'Jane Doe, MRN 448812';

const jsonl = (records: unknown[]) => `${records.map((r) => JSON.stringify(r)).join('\n')}\n`;
/** Private-looking records in the four shapes, each carrying a marker we can search for. */
function privateRecords(n: number) {
  return Array.from({ length: n }, (_, i) => {
    switch (i % 4) {
      case 0:
        return { id: `r${i}`, instruction: `secret-prompt-${i}`, input: 'vitals', output: `secret-answer-${i}` };
      case 1:
        return { question: `secret-prompt-${i}`, answer: `secret-answer-${i}`, ward: 3 };
      case 2:
        return { id: i, prompt: `secret-prompt-${i}`, completion: `secret-answer-${i}` };
      default:
        return {
          messages: [
            { role: 'user', content: `secret-prompt-${i}` },
            { role: 'assistant', content: `secret-answer-${i}` },
          ],
        };
    }
  });
}

describe('prepare-run', () => {
  let s3: ReturnType<typeof memoryS3>;
  let logger: ReturnType<typeof recordingLogger>;
  let metrics: ReturnType<typeof recordingMetrics>;
  const handler = () => createHandler({ s3: s3.client, config, logger, metrics, now: () => NOW });

  beforeEach(() => {
    s3 = memoryS3();
    logger = recordingLogger();
    metrics = recordingMetrics();
  });

  describe('a good upload', () => {
    it('streams and normalizes every shape, plans the budget and writes run.json to both zones', async () => {
      const event = loadEvent('prepare-run-input');
      s3.put(PRIVATE, 'incoming/clinic-qa.jsonl', jsonl(privateRecords(200)));
      const run = await handler()(event);

      expect(run.runId).toBe('clinic-qa-3f9a2c1d');
      expect(run.records).toBe(200);
      expect(run.rounds).toBe(2);
      expect(run.hasTest).toBe(false);
      expect(run.hasSeeds).toBe(false);
      expect(run.config.privacy.delta).toBe(Math.min(1e-5, 1 / 2000));
      expect(run.config.synthesis.queries).toBe(200);
      const plan = run.plan as unknown as PrivacyPlan;
      expect(plan.targetEpsilon).toBe(8);
      expect(plan.epsilon).toBeLessThanOrEqual(8);
      expect(plan.generator.sampleRate).toBeCloseTo(64 / 200, 12);
      expect(plan.generator.steps).toBe(3 * Math.ceil(200 / 64));

      const train = s3.jsonl(PRIVATE, 'runs/clinic-qa-3f9a2c1d/input/train.jsonl');
      expect(train).toHaveLength(200);
      expect(train.slice(0, 4)).toEqual([
        { id: 'r0', prompt: 'secret-prompt-0\n\nvitals', response: 'secret-answer-0' },
        { id: 'line-000002', prompt: 'secret-prompt-1', response: 'secret-answer-1' },
        { id: '2', prompt: 'secret-prompt-2', response: 'secret-answer-2' },
        { id: 'line-000004', prompt: 'secret-prompt-3', response: 'secret-answer-3' },
      ]);

      // Writes are SSE-KMS with each zone's own key; the run summary goes to both zones.
      const puts = s3.mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
      const byKey = Object.fromEntries(puts.map((p) => [`${p.Bucket}/${p.Key}`, p]));
      expect(byKey[`${PRIVATE}/runs/clinic-qa-3f9a2c1d/input/train.jsonl`]).toMatchObject({
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: PRIVATE_KEY,
        BucketKeyEnabled: true,
      });
      expect(byKey[`${SYNTHESIS}/runs/clinic-qa-3f9a2c1d/run.json`]).toMatchObject({
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: SYNTHESIS_KEY,
      });
      expect(byKey[`${PRIVATE}/runs/clinic-qa-3f9a2c1d/run.json`]).toMatchObject({ SSEKMSKeyId: PRIVATE_KEY });

      const summary = s3.json(SYNTHESIS, 'runs/clinic-qa-3f9a2c1d/run.json');
      expect(summary).toEqual({
        ...JSON.parse(JSON.stringify(run)),
        counts: { train: 200, test: 0, seeds: 0, canaries: 0 },
        preparedAt: NOW.toISOString(),
      });
      expect(s3.json(PRIVATE, 'runs/clinic-qa-3f9a2c1d/run.json')).toEqual({ ...summary, upload: event.upload });

      // Nothing of a record reaches the synthesis zone or the logs.
      expect(s3.keys(SYNTHESIS)).toEqual(['runs/clinic-qa-3f9a2c1d/run.json']);
      expect(s3.text(SYNTHESIS, 'runs/clinic-qa-3f9a2c1d/run.json')).not.toMatch(/secret-/);
      expect(logger.lines.join('\n')).not.toMatch(/secret-/);
      expect(metrics.added).toContainEqual({ name: 'RecordsAccepted', unit: 'Count', value: 200 });
      expect(metrics.added.find((m) => m.name === 'PlannedEpsilon')!.value).toBe(plan.epsilon);
      // The upload itself is left where it was.
      expect(s3.text(PRIVATE, 'incoming/clinic-qa.jsonl')).toBeDefined();
    });

    it('privacy.audit.canaries: appends k canaries to train, counts them in N, and keeps every secret private', async () => {
      s3.put(PRIVATE, 'incoming/audit/config.json', JSON.stringify({ privacy: { audit: { canaries: 3 } } }));
      s3.put(PRIVATE, 'incoming/audit/train.jsonl', jsonl(privateRecords(100)));
      let draws = 0;
      // Distinct, recognisable codes; the repeat of the first one must be drawn again.
      const codes = ['1000000001', '1000000001', '2000000002', '3000000003', '4000000004', '5000000005', '6000000006'];
      const run = await createHandler({
        s3: s3.client,
        config,
        logger,
        metrics,
        now: () => NOW,
        canarySecret: () => codes[draws++]!,
      })({ runId: 'audit-0a1b2c3d', upload: { bucket: PRIVATE, key: 'incoming/audit/train.jsonl', etag: 'e1' } });

      // N counts the canaries: they are records of the DP unit, so the plan's q uses 103.
      expect(run.records).toBe(103);
      expect((run.plan as unknown as PrivacyPlan).generator.sampleRate).toBeCloseTo(64 / 103, 12);
      const train = s3.jsonl(PRIVATE, 'runs/audit-0a1b2c3d/input/train.jsonl');
      expect(train).toHaveLength(103);
      expect(train.slice(100)).toEqual(
        ['1000000001', '2000000002', '3000000003'].map((secret, i) => ({
          id: `rewardds-canary-000${i}`,
          prompt: 'What is the secret access code on file?',
          response: `The secret access code on file is ${secret}.`,
        })),
      );
      const canaries = s3.jsonl(PRIVATE, 'runs/audit-0a1b2c3d/input/canaries.jsonl') as {
        secret: string;
        inserted: boolean;
      }[];
      expect(canaries.map((c) => [c.secret, c.inserted])).toEqual([
        ['1000000001', true],
        ['2000000002', true],
        ['3000000003', true],
        ['4000000004', false],
        ['5000000005', false],
        ['6000000006', false],
      ]);
      expect(s3.json(SYNTHESIS, 'runs/audit-0a1b2c3d/run.json')).toMatchObject({
        counts: { train: 103, canaries: 3 },
      });
      // No secret in the synthesis zone, a log line or a metric.
      const synthesis = s3
        .keys(SYNTHESIS)
        .map((k) => s3.text(SYNTHESIS, k))
        .join('\n');
      const logged = `${logger.lines.join('\n')}\n${JSON.stringify(metrics.added)}`;
      for (const code of codes) {
        expect(synthesis).not.toContain(code);
        expect(logged).not.toContain(code);
      }
    });

    it('draws canary secrets as ten CSPRNG digits', () => {
      const secrets = Array.from({ length: 200 }, () => cryptoSecret());
      for (const s of secrets) expect(s).toMatch(/^\d{10}$/);
      expect(new Set(secrets).size).toBe(200);
      // Leading digits spread over 0–9 (a fixed prefix would shrink the candidate space).
      expect(new Set(secrets.map((s) => s[0])).size).toBeGreaterThan(5);
    });

    it('refuses an upload whose ids collide with the reserved canary ids, only when canaries are on', async () => {
      const records = [{ id: 'rewardds-canary-0001', prompt: 'p', response: 'r' }];
      s3.put(PRIVATE, 'incoming/clash/config.json', JSON.stringify({ privacy: { audit: { canaries: 2 } } }));
      s3.put(PRIVATE, 'incoming/clash/train.jsonl', jsonl(records));
      await expect(
        handler()({
          runId: 'clash-0a1b2c3d',
          upload: { bucket: PRIVATE, key: 'incoming/clash/train.jsonl', etag: 'e' },
        }),
      ).rejects.toThrow(/reserved for the audit/);
      expect(s3.keys(PRIVATE).filter((k) => k.startsWith('runs/'))).toEqual([]);
    });

    it('reads the upload with a single GetObject of the uploaded key', async () => {
      s3.put(PRIVATE, 'incoming/clinic-qa.jsonl', jsonl(privateRecords(80)));
      await handler()(loadEvent('prepare-run-input'));
      const gets = s3.mock.commandCalls(GetObjectCommand).map((c) => c.args[0].input);
      expect(gets).toEqual([{ Bucket: PRIVATE, Key: 'incoming/clinic-qa.jsonl' }]);
    });

    it('folder layout: applies config.json, keeps test.jsonl private and sends public seeds to synthesis', async () => {
      s3.put(
        PRIVATE,
        'incoming/bank-faq/config.json',
        JSON.stringify({
          privacy: { epsilon: 4, delta: 1e-6 },
          generator: { batchSize: 8 },
          reward: { batchSize: 8, epochs: 2 },
          refinement: { rounds: 1 },
          synthesis: { queries: 50 },
        }),
      );
      s3.put(
        PRIVATE,
        'incoming/bank-faq/test.jsonl',
        jsonl([
          { question: 'secret-test-q', answer: 'secret-test-a' },
          { prompt: 'secret-test-q2', response: 'secret-test-a2' },
        ]),
      );
      s3.put(
        PRIVATE,
        'incoming/bank-faq/seeds.jsonl',
        jsonl([{ prompt: 'How do I open an account?' }, { id: 'fee', prompt: 'What fees apply?' }]),
      );
      s3.put(PRIVATE, 'incoming/bank-faq/train.jsonl', jsonl(privateRecords(40)));
      const run = await handler()({
        runId: 'bank-faq-0a1b2c3d',
        upload: { bucket: PRIVATE, key: 'incoming/bank-faq/train.jsonl', etag: 'e1' },
      });

      expect(run).toMatchObject({ records: 40, rounds: 1, hasTest: true, hasSeeds: true });
      expect(run.config.privacy).toMatchObject({ epsilon: 4, delta: 1e-6 });
      expect(run.config.synthesis.queries).toBe(50);
      expect((run.plan as unknown as PrivacyPlan).reward).toMatchObject({
        batchSize: 8,
        epochs: 2,
        steps: 10,
        sampleRate: 0.2,
      });
      expect((run.plan as unknown as PrivacyPlan).delta).toBe(1e-6);

      expect(s3.jsonl(PRIVATE, 'runs/bank-faq-0a1b2c3d/input/test.jsonl')).toEqual([
        { id: 'line-000001', prompt: 'secret-test-q', response: 'secret-test-a' },
        { id: 'line-000002', prompt: 'secret-test-q2', response: 'secret-test-a2' },
      ]);
      expect(s3.jsonl(SYNTHESIS, 'runs/bank-faq-0a1b2c3d/input/seeds.jsonl')).toEqual([
        { id: 'line-000001', prompt: 'How do I open an account?' },
        { id: 'fee', prompt: 'What fees apply?' },
      ]);
      expect(s3.keys(SYNTHESIS)).toEqual([
        'runs/bank-faq-0a1b2c3d/input/seeds.jsonl',
        'runs/bank-faq-0a1b2c3d/run.json',
      ]);
      expect(s3.json(SYNTHESIS, 'runs/bank-faq-0a1b2c3d/run.json').counts).toEqual({
        train: 40,
        test: 2,
        seeds: 2,
        canaries: 0,
      });
      expect(
        s3
          .keys(SYNTHESIS)
          .map((k) => s3.text(SYNTHESIS, k))
          .join(''),
      ).not.toMatch(/secret-/);
    });

    it('encrypts every write with its zone key: private for train, test and run.json, synthesis for seeds and run.json', async () => {
      s3.put(
        PRIVATE,
        'incoming/bank-faq/config.json',
        JSON.stringify({ privacy: { epsilon: 4 }, generator: { batchSize: 8 }, reward: { batchSize: 8 } }),
      );
      s3.put(PRIVATE, 'incoming/bank-faq/test.jsonl', jsonl([{ prompt: 'secret-test-q', response: 'secret-test-a' }]));
      s3.put(PRIVATE, 'incoming/bank-faq/seeds.jsonl', jsonl([{ prompt: 'How do I open an account?' }]));
      s3.put(PRIVATE, 'incoming/bank-faq/train.jsonl', jsonl(privateRecords(40)));
      await handler()({
        runId: 'bank-faq-0a1b2c3d',
        upload: { bucket: PRIVATE, key: 'incoming/bank-faq/train.jsonl', etag: 'e1' },
      });

      // Small bodies go up by PutObject; a multipart upload would carry its SSE on CreateMultipartUpload.
      const writes = [...s3.mock.commandCalls(PutObjectCommand), ...s3.mock.commandCalls(CreateMultipartUploadCommand)]
        .map((c) => c.args[0].input)
        .map((w) => [
          `${w.Bucket}/${w.Key}`,
          {
            ServerSideEncryption: w.ServerSideEncryption,
            SSEKMSKeyId: w.SSEKMSKeyId,
            BucketKeyEnabled: w.BucketKeyEnabled,
          },
        ])
        .sort(([a], [b]) => String(a).localeCompare(String(b)));
      const sse = (key: string) => ({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key, BucketKeyEnabled: true });
      expect(writes).toEqual([
        [`${PRIVATE}/runs/bank-faq-0a1b2c3d/input/test.jsonl`, sse(PRIVATE_KEY)],
        [`${PRIVATE}/runs/bank-faq-0a1b2c3d/input/train.jsonl`, sse(PRIVATE_KEY)],
        [`${PRIVATE}/runs/bank-faq-0a1b2c3d/run.json`, sse(PRIVATE_KEY)],
        [`${SYNTHESIS}/runs/bank-faq-0a1b2c3d/input/seeds.jsonl`, sse(SYNTHESIS_KEY)],
        [`${SYNTHESIS}/runs/bank-faq-0a1b2c3d/run.json`, sse(SYNTHESIS_KEY)],
      ]);
    });

    it('lays config.json over the deployment defaults, finding side files by one listing (no HEAD of missing keys)', async () => {
      s3.put(
        PRIVATE,
        'incoming/bank-faq/config.json',
        JSON.stringify({ privacy: { epsilon: 5 }, generator: { batchSize: 8 }, reward: { batchSize: 8 } }),
      );
      s3.put(PRIVATE, 'incoming/bank-faq/train.jsonl', jsonl(privateRecords(40)));
      const env = {
        PRIVATE_BUCKET: PRIVATE,
        SYNTHESIS_BUCKET: SYNTHESIS,
        DEFAULT_RUN_CONFIG: JSON.stringify({
          privacy: { epsilon: 3, clipNorm: 0.5 },
          generator: { baseModel: 's3://models-bucket/qwen-0.5b/' },
        }),
      };
      const run = await createHandler({ s3: s3.client, config: configFromEnv(env), now: () => NOW })({
        runId: 'bank-faq-0a1b2c3d',
        upload: { bucket: PRIVATE, key: 'incoming/bank-faq/train.jsonl', etag: 'e1' },
      });
      expect(run.config.privacy).toMatchObject({ epsilon: 5, clipNorm: 0.5 });
      expect(run.config.generator).toMatchObject({ baseModel: 's3://models-bucket/qwen-0.5b/', batchSize: 8 });
      expect(run).toMatchObject({ hasTest: false, hasSeeds: false });
      expect(s3.mock.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input)).toEqual([
        { Bucket: PRIVATE, Prefix: 'incoming/bank-faq/', ContinuationToken: undefined },
      ]);
      expect(s3.mock.commandCalls(HeadObjectCommand)).toHaveLength(0);
    });

    it('refuses a bad deployment default at start-up, naming the key', () => {
      expect(() =>
        configFromEnv({
          PRIVATE_BUCKET: PRIVATE,
          SYNTHESIS_BUCKET: SYNTHESIS,
          DEFAULT_RUN_CONFIG: '{"privacy":{"epsilom":3}}',
        }),
      ).toThrow('DEFAULT_RUN_CONFIG: privacy.epsilom: unknown key');
    });

    it('refuses an input event without an upload, naming the field', async () => {
      await expect(handler()({ runId: 'x-1' })).rejects.toThrow(/prepare-run: invalid input: upload/);
    });
  });

  describe('bad input is quarantined and refused', () => {
    const upload = { bucket: PRIVATE, key: 'incoming/clinic-qa.jsonl', etag: 'b1946ac92492d2347c6235b4d2611184' };
    const input = { runId: 'clinic-qa-3f9a2c1d', upload };

    /** Runs prepare-run on the files and returns the InputRejected it must throw. */
    async function rejected(files: Record<string, string | Buffer>, event: unknown = input): Promise<InputRejected> {
      for (const [key, body] of Object.entries(files)) s3.put(PRIVATE, key, body);
      const error = await handler()(event).then(
        () => {
          throw new Error('expected InputRejected');
        },
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InputRejected);
      return error as InputRejected;
    }

    /** The exact CopyObject and error-report PutObject, and nothing left half-written. */
    function expectQuarantined(
      uploadKey: string,
      report: { file: string; line: number | null; field: string | null; reason: string | RegExp },
    ) {
      const name = uploadKey.replace(/^incoming\//, '');
      const copies = s3.mock.commandCalls(CopyObjectCommand).map((c) => c.args[0].input);
      expect(copies).toEqual([
        {
          Bucket: PRIVATE,
          Key: `quarantine/${name}`,
          CopySource: `${PRIVATE}/${uploadKey}`,
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: PRIVATE_KEY,
          BucketKeyEnabled: true,
        },
      ]);
      const reportPut = s3.mock
        .commandCalls(PutObjectCommand)
        .map((c) => c.args[0].input)
        .find((p) => p.Key === `quarantine/${name}.error.json`)!;
      const body = JSON.parse(reportPut.Body as string);
      expect(reportPut).toEqual({
        Bucket: PRIVATE,
        Key: `quarantine/${name}.error.json`,
        Body: JSON.stringify(body, null, 2),
        ContentType: 'application/json',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: PRIVATE_KEY,
        BucketKeyEnabled: true,
      });
      const { reason, ...rest } = report;
      expect(body).toMatchObject({ ...rest, at: NOW.toISOString() });
      expect(body.reason).toMatch(reason);
      expect(body.upload.key).toBe(uploadKey);
      // The upload is kept, the quarantined copy is byte-identical, and no run output exists.
      expect(s3.objects.get(`${PRIVATE}/quarantine/${name}`)!.equals(s3.objects.get(`${PRIVATE}/${uploadKey}`)!)).toBe(
        true,
      );
      expect(s3.keys(PRIVATE).filter((k) => k.startsWith('runs/'))).toEqual([]);
      expect(s3.keys(SYNTHESIS).filter((k) => !k.endsWith('seeds.jsonl'))).toEqual([]);
      expect(JSON.stringify(body) + logger.lines.join('\n')).not.toContain('Jane');
      expect(metrics.added).toContainEqual({ name: 'UploadsRejected', unit: 'Count', value: 1 });
    }

    it('a record over 1 MiB', async () => {
      const big = JSON.stringify({ prompt: SECRET, response: 'x'.repeat(1024 * 1024) });
      const error = await rejected({ 'incoming/clinic-qa.jsonl': `${jsonl(privateRecords(3))}${big}\n` });
      expect(error.message).toBe('incoming/clinic-qa.jsonl:4: line is over the 1048576-byte limit');
      expectQuarantined(upload.key, { file: upload.key, line: 4, field: null, reason: /over the 1048576-byte limit/ });
    });

    it('stops reading at a line past 1 MiB instead of buffering it whole', async () => {
      let pulled = 0;
      async function* endlessLine() {
        yield Buffer.from('{"prompt": "');
        for (let i = 0; i < 1000; i++) {
          pulled += 1;
          yield Buffer.alloc(64 * 1024, 0x78);
        }
      }
      s3.put(PRIVATE, upload.key, 'placeholder');
      s3.mock
        .on(GetObjectCommand, { Key: upload.key })
        .callsFake(async () => ({ Body: sdkStreamMixin(Readable.from(endlessLine())) }));
      const error = await rejected({});
      expect(error.message).toBe('incoming/clinic-qa.jsonl:1: line is over the 1048576-byte limit');
      expect(pulled).toBeLessThan(20);
    });

    it('bytes that are not UTF-8', async () => {
      const bad = Buffer.concat([
        Buffer.from(jsonl(privateRecords(2))),
        Buffer.from('{"prompt": "Jane \xff", "response": "r"}\n', 'latin1'),
      ]);
      const error = await rejected({ 'incoming/clinic-qa.jsonl': bad });
      expect(error.message).toBe('incoming/clinic-qa.jsonl:3: not valid UTF-8');
      expectQuarantined(upload.key, { file: upload.key, line: 3, field: null, reason: 'not valid UTF-8' });
    });

    it('a line that is not JSON, without quoting it', async () => {
      const error = await rejected({
        'incoming/clinic-qa.jsonl': `${jsonl(privateRecords(1))}{"prompt": ${SECRET}}\n`,
      });
      expect(error.message).toMatch(/^incoming\/clinic-qa\.jsonl:2: not JSON/);
      expectQuarantined(upload.key, { file: upload.key, line: 2, field: null, reason: /^not JSON/ });
    });

    it('JSON that is not an object', async () => {
      const error = await rejected({ 'incoming/clinic-qa.jsonl': `${jsonl(privateRecords(2))}["${SECRET}"]\n` });
      expect(error.message).toBe('incoming/clinic-qa.jsonl:3: not a JSON object');
      expectQuarantined(upload.key, { file: upload.key, line: 3, field: null, reason: 'not a JSON object' });
    });

    it('an unrecognized shape', async () => {
      const error = await rejected({ 'incoming/clinic-qa.jsonl': jsonl([{ text: SECRET }]) });
      expect(error.message).toMatch(/^incoming\/clinic-qa\.jsonl:1: unrecognized record shape/);
      expectQuarantined(upload.key, { file: upload.key, line: 1, field: null, reason: /unrecognized record shape/ });
    });

    it('a missing response', async () => {
      const error = await rejected({ 'incoming/clinic-qa.jsonl': jsonl([...privateRecords(5), { question: SECRET }]) });
      expect(error.message).toBe('incoming/clinic-qa.jsonl:6:response: missing response');
      expectQuarantined(upload.key, { file: upload.key, line: 6, field: 'response', reason: 'missing response' });
    });

    it('a blank response', async () => {
      const error = await rejected({
        'incoming/clinic-qa.jsonl': jsonl([{ instruction: SECRET, input: '', output: '  ' }]),
      });
      expect(error.message).toBe('incoming/clinic-qa.jsonl:1:output: blank response');
      expectQuarantined(upload.key, { file: upload.key, line: 1, field: 'output', reason: 'blank response' });
    });

    it('a duplicate id', async () => {
      const error = await rejected({
        'incoming/clinic-qa.jsonl': jsonl([
          { id: 7, prompt: 'a', response: 'b' },
          { id: '7', prompt: SECRET, response: 'c' },
        ]),
      });
      expect(error.message).toBe('incoming/clinic-qa.jsonl:2:id: duplicate id (first used on line 1)');
      expectQuarantined(upload.key, { file: upload.key, line: 2, field: 'id', reason: /duplicate id/ });
    });

    it('an empty file, naming the file', async () => {
      const error = await rejected({ 'incoming/clinic-qa.jsonl': '\n  \n' });
      expect(error.message).toBe('incoming/clinic-qa.jsonl: empty file: no records');
      expectQuarantined(upload.key, { file: upload.key, line: null, field: null, reason: 'empty file: no records' });
    });

    it('an unknown config key, naming the key', async () => {
      const key = 'incoming/bank-faq/train.jsonl';
      const error = await rejected(
        {
          'incoming/bank-faq/config.json': JSON.stringify({ privacy: { epsilon: 4, epsilonn: 2 } }),
          [key]: jsonl(privateRecords(100)),
        },
        { runId: 'bank-faq-0a1b2c3d', upload: { ...upload, key } },
      );
      expect(error.message).toBe('incoming/bank-faq/config.json:privacy.epsilonn: privacy.epsilonn: unknown key');
      expectQuarantined(key, {
        file: 'incoming/bank-faq/config.json',
        line: null,
        field: 'privacy.epsilonn',
        reason: /unknown key/,
      });
    });

    it('an instance type SageMaker does not offer for the kind of job it is for, naming the key', async () => {
      const key = 'incoming/bank-faq/train.jsonl';
      const error = await rejected(
        {
          'incoming/bank-faq/config.json': JSON.stringify({
            compute: { instanceTypes: { generation: 'ml.p4d.24xlarge', proxyTraining: 'ml.g5.2xlarge' } },
          }),
          [key]: jsonl(privateRecords(100)),
        },
        { runId: 'bank-faq-0a1b2c3d', upload: { ...upload, key } },
      );
      expect(error.message).toBe(
        'incoming/bank-faq/config.json:compute.instanceTypes.generation: compute.instanceTypes.generation: ' +
          "'ml.p4d.24xlarge' is not a SageMaker processing instance type (it runs build-pairs, synthesize-queries, " +
          'sample-candidates, score, refine, audit-canaries)',
      );
      expectQuarantined(key, {
        file: 'incoming/bank-faq/config.json',
        line: null,
        field: 'compute.instanceTypes.generation',
        reason: /not a SageMaker processing instance type/,
      });
    });

    it('a config that is not JSON', async () => {
      const key = 'incoming/bank-faq/train.jsonl';
      const error = await rejected(
        { 'incoming/bank-faq/config.json': '{ privacy: ', [key]: jsonl(privateRecords(100)) },
        { runId: 'bank-faq-0a1b2c3d', upload: { ...upload, key } },
      );
      expect(error.message).toBe('incoming/bank-faq/config.json: not valid JSON');
      expectQuarantined(key, {
        file: 'incoming/bank-faq/config.json',
        line: null,
        field: null,
        reason: 'not valid JSON',
      });
    });

    it('a bad line in test.jsonl names that file', async () => {
      const key = 'incoming/bank-faq/train.jsonl';
      const error = await rejected(
        { 'incoming/bank-faq/test.jsonl': jsonl([{ prompt: SECRET }]), [key]: jsonl(privateRecords(100)) },
        { runId: 'bank-faq-0a1b2c3d', upload: { ...upload, key } },
      );
      expect(error.message).toBe('incoming/bank-faq/test.jsonl:1:response: missing response');
      expectQuarantined(key, {
        file: 'incoming/bank-faq/test.jsonl',
        line: 1,
        field: 'response',
        reason: 'missing response',
      });
    });

    it('an infeasible privacy plan, with its reason, before any job', async () => {
      const error = await rejected({ 'incoming/clinic-qa.jsonl': jsonl(privateRecords(10)) });
      expect(error.message).toMatch(
        /^incoming\/clinic-qa\.jsonl:privacy: infeasible privacy plan: generator\.batchSize 64 is larger than the 10 training records/,
      );
      expectQuarantined(upload.key, {
        file: upload.key,
        line: null,
        field: 'privacy',
        reason: /infeasible privacy plan/,
      });
      expect(metrics.added.find((m) => m.name === 'RecordsAccepted')).toBeUndefined();
      // The normalized copy written before the count was known is removed again.
      expect(s3.mock.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input)).toEqual([
        { Bucket: PRIVATE, Key: 'runs/clinic-qa-3f9a2c1d/input/train.jsonl' },
      ]);
    });

    it('an infeasible plan of a folder upload without config.json names train.jsonl', async () => {
      const key = 'incoming/bank-faq/train.jsonl';
      const error = await rejected(
        { [key]: jsonl(privateRecords(30)) },
        { runId: 'bank-faq-0a1b2c3d', upload: { ...upload, key } },
      );
      expect(error.message).toMatch(/^incoming\/bank-faq\/train\.jsonl:privacy: infeasible privacy plan/);
      expectQuarantined(key, { file: key, line: null, field: 'privacy', reason: /infeasible/ });
    });

    it('an ε no noise level can meet, with the planner reason', async () => {
      const key = 'incoming/bank-faq/train.jsonl';
      const error = await rejected(
        {
          'incoming/bank-faq/config.json': JSON.stringify({
            privacy: { epsilon: 0.01 },
            generator: { batchSize: 10 },
            reward: { batchSize: 10 },
          }),
          [key]: jsonl(privateRecords(20)),
        },
        { runId: 'bank-faq-0a1b2c3d', upload: { ...upload, key } },
      );
      expect(error.message).toMatch(
        /^incoming\/bank-faq\/config\.json:privacy: infeasible privacy plan: ε = 0\.01 .* cannot be met with 20 records/,
      );
      expectQuarantined(key, {
        file: 'incoming/bank-faq/config.json',
        line: null,
        field: 'privacy',
        reason: /cannot be met/,
      });
    });
  });
});

describe("prepare-run against moto's S3 server (real S3 protocol, SSE-KMS)", () => {
  let server: S3Server;
  let client: S3Client;
  let keys: { private: string; synthesis: string };

  beforeAll(async () => {
    server = await startS3Server();
    client = s3ClientFor(server);
    keys = { private: await createKmsKey(server, 'private'), synthesis: await createKmsKey(server, 'synthesis') };
    for (const bucket of [PRIVATE, SYNTHESIS]) await client.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  afterAll(async () => {
    client?.destroy();
    await server?.stop();
  });

  const motoHandler = () =>
    createHandler({
      s3: client,
      config: {
        privateBucket: PRIVATE,
        synthesisBucket: SYNTHESIS,
        privateKeyArn: keys.private,
        synthesisKeyArn: keys.synthesis,
      },
      now: () => NOW,
    });

  it('normalizes a 10 MB upload through a real multipart upload, encrypted with the private key', async () => {
    const records = Array.from({ length: 20_000 }, (_, i) => ({
      id: `r${i}`,
      prompt: `question ${i} ${'p'.repeat(200)}`,
      response: `answer ${i} ${'r'.repeat(250)}`,
    }));
    const body = jsonl(records);
    expect(body.length).toBeGreaterThan(9 * 1024 * 1024);
    await client.send(new PutObjectCommand({ Bucket: PRIVATE, Key: 'incoming/big.jsonl', Body: body }));

    const run = await motoHandler()({
      runId: 'big-0a1b2c3d',
      upload: { bucket: PRIVATE, key: 'incoming/big.jsonl', etag: 'x' },
    });
    expect(run.records).toBe(20_000);

    const key = 'runs/big-0a1b2c3d/input/train.jsonl';
    const head = await client.send(new HeadObjectCommand({ Bucket: PRIVATE, Key: key }));
    expect(head.ServerSideEncryption).toBe('aws:kms');
    expect(head.SSEKMSKeyId).toBe(keys.private);
    const stored = await (
      await client.send(new GetObjectCommand({ Bucket: PRIVATE, Key: key }))
    ).Body!.transformToString();
    expect(stored).toBe(body); // already in the normalized shape, so normalization is the identity here
    const summary = await client.send(new HeadObjectCommand({ Bucket: SYNTHESIS, Key: 'runs/big-0a1b2c3d/run.json' }));
    expect(summary.SSEKMSKeyId).toBe(keys.synthesis);
  });

  it('quarantines a bad upload with CopyObject and keeps the original', async () => {
    await client.send(
      new PutObjectCommand({ Bucket: PRIVATE, Key: 'incoming/bad file.jsonl', Body: jsonl([{ prompt: SECRET }]) }),
    );
    await expect(
      motoHandler()({
        runId: 'bad-file-0a1b2c3d',
        upload: { bucket: PRIVATE, key: 'incoming/bad file.jsonl', etag: 'x' },
      }),
    ).rejects.toThrow('incoming/bad file.jsonl:1:response: missing response');
    const read = async (key: string) =>
      (await client.send(new GetObjectCommand({ Bucket: PRIVATE, Key: key }))).Body!.transformToString();
    expect(await read('quarantine/bad file.jsonl')).toBe(await read('incoming/bad file.jsonl'));
    expect(JSON.parse(await read('quarantine/bad file.jsonl.error.json'))).toMatchObject({
      file: 'incoming/bad file.jsonl',
      line: 1,
      field: 'response',
      reason: 'missing response',
    });
    const listed = await client.send(new ListObjectsV2Command({ Bucket: PRIVATE, Prefix: 'runs/bad-file-0a1b2c3d/' }));
    expect(listed.KeyCount ?? 0).toBe(0);
  });
});
