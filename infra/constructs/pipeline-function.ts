/**
 * One of the pipeline's Lambdas: bundled locally with esbuild from
 * functions/<name>/handler.ts (export `handler`), arm64 on the newest Node runtime, traced,
 * logging to its own encrypted log group, with a role that holds only what its caller grants.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../../core/config/index.js';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stableId } from './stable-id.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** `functions/<name>/handler.ts` of this repository. */
export const handlerEntry = (name: string) => path.join(REPO_ROOT, 'functions', name, 'handler.ts');

export interface PipelineFunctionProps {
  /** The folder under functions/, e.g. `start-job`. */
  readonly name: string;
  /** Logical-id stem, e.g. `StartJob` → `StartJobFunction`, `StartJobRole`. */
  readonly logicalName: string;
  readonly description: string;
  readonly environment: Record<string, string>;
  /** Encrypts the function's log group. */
  readonly logsKey: kms.IKey;
  /** Default 1 minute. */
  readonly timeout?: Duration;
  /** Default 512 MB (streams, never whole files). */
  readonly memorySize?: number;
  /** For asynchronously invoked functions (the trigger). Default none. */
  readonly deadLetterQueue?: sqs.IQueue;
  /** Days the logs are kept. Default one year. */
  readonly logRetention?: logs.RetentionDays;
}

export class PipelineFunction extends Construct {
  public readonly function: nodejs.NodejsFunction;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    super(scope, id);
    const entry = handlerEntry(props.name);
    if (!existsSync(entry))
      throw new Error(
        `${props.name}: ${path.relative(REPO_ROOT, entry)} does not exist (every pipeline Lambda exports \`handler\` from it)`,
      );

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logsKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Our own role, so no managed policy: it may write only to its own log group.
    this.role = stableId(
      new iam.Role(this, 'Role', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `RewardDS ${props.name} Lambda`,
      }),
      `${props.logicalName}Role`,
    );
    this.logGroup.grantWrite(this.role);

    this.function = stableId(
      new nodejs.NodejsFunction(this, 'Function', {
        entry,
        handler: 'handler',
        description: props.description,
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: props.memorySize ?? 512,
        timeout: props.timeout ?? Duration.minutes(1),
        role: this.role,
        logGroup: this.logGroup,
        loggingFormat: lambda.LoggingFormat.JSON,
        tracing: lambda.Tracing.ACTIVE,
        deadLetterQueue: props.deadLetterQueue,
        environment: {
          ...props.environment,
          [ENV.powertoolsMetricsNamespace]: 'RewardDS',
          [ENV.powertoolsServiceName]: `rewardds-${props.name}`,
          NODE_OPTIONS: '--enable-source-maps',
        },
        projectRoot: REPO_ROOT,
        depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
        bundling: {
          forceDockerBundling: false,
          format: nodejs.OutputFormat.CJS,
          target: 'node22',
          minify: true,
          sourceMap: true,
          // Stack traces keep file and line; the map need not carry every dependency's source.
          sourcesContent: false,
          // Bundle the pinned AWS SDK rather than the runtime's copy, so AWS runs what the tests ran.
          externalModules: [],
        },
      }),
      `${props.logicalName}Function`,
    );
  }
}
