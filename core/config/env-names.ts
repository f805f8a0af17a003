/**
 * The Lambdas' environment variables, named once: infra sets them from these names and each
 * handler's configFromEnv reads them through `readEnv`, so a rename cannot split the two.
 */
import { z } from 'zod';

/** Config field → variable name. */
export const ENV = {
  privateBucket: 'PRIVATE_BUCKET',
  synthesisBucket: 'SYNTHESIS_BUCKET',
  privateKeyArn: 'PRIVATE_KEY_ARN',
  synthesisKeyArn: 'SYNTHESIS_KEY_ARN',
  defaultRunConfig: 'DEFAULT_RUN_CONFIG',
  stateMachineArn: 'STATE_MACHINE_ARN',
  jobImageUri: 'JOB_IMAGE_URI',
  privateJobRoleArn: 'PRIVATE_JOB_ROLE_ARN',
  synthesisJobRoleArn: 'SYNTHESIS_JOB_ROLE_ARN',
  proxyBaseModelUri: 'PROXY_BASE_MODEL_URI',
  targetBaseModelUri: 'TARGET_BASE_MODEL_URI',
  modelsPrefixUri: 'MODELS_PREFIX_URI',
  jobNamePrefix: 'JOB_NAME_PREFIX',
  /** Read by Powertools, not by our code; local mode also finds each Lambda by it. */
  powertoolsServiceName: 'POWERTOOLS_SERVICE_NAME',
  powertoolsMetricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
} as const;

export type EnvField = keyof typeof ENV;

/** Which variables a handler reads, and how each is checked. */
export type EnvSpec = { [F in EnvField]?: z.ZodType };

/**
 * Parses the variables `spec` names out of `env` and returns them under their config field
 * names; a missing or malformed one fails naming the variable, as a plain zod parse would.
 */
export function readEnv<S extends EnvSpec>(
  env: Readonly<Record<string, string | undefined>>,
  spec: S,
): { [F in keyof S]: S[F] extends z.ZodType ? z.output<S[F]> : never } {
  const fields = Object.keys(spec) as EnvField[];
  const parsed = z.object(Object.fromEntries(fields.map((f) => [ENV[f], spec[f] as z.ZodType]))).parse(env);
  return Object.fromEntries(fields.map((f) => [f, parsed[ENV[f]]])) as {
    [F in keyof S]: S[F] extends z.ZodType ? z.output<S[F]> : never;
  };
}
