/**
 * Deployment settings: what an operator chooses with `cdk deploy -c key=value` (or
 * cdk.json's context). The two base models have no default: they must come from a bucket
 * the deployer controls, so synth refuses without them. Everything else has a default.
 */
import type { Node } from 'constructs';

export interface DeploymentSettings {
  /** S3 URI prefix holding the public base models; the job roles may read only here. Default: the common prefix of the two base models. */
  readonly modelsPrefix: string;
  /** S3 URI of the small proxy base model's HF folder (G and R). Required. */
  readonly generatorBaseModel: string;
  /** S3 URI of the target LLM's HF folder. Required. */
  readonly targetBaseModel: string;
  /** Account that must own the models bucket (s3:ResourceAccount). Default: the deploying account. */
  readonly modelsBucketAccount?: string;
  /** Instance types a run uses when its config names none. Default: the run config's defaults. */
  readonly instanceTypes: Partial<Record<'proxyTraining' | 'targetTraining' | 'generation' | 'evaluation', string>>;
  /** Total ε a run gets when its config names none. Default 8. */
  readonly defaultEpsilon: number;
  /**
   * Name of the IAM role (path /) exempted from the private zone's explicit denies, for an
   * audited emergency read. Need not exist until needed. Default: `<stack name>-private-break-glass`.
   */
  readonly breakGlassRoleName?: string;
  /** Who hears about failed runs. Default: nobody subscribed (the topic still exists). */
  readonly alarmEmail?: string;
  /** Days the access logs and old object versions are kept. Default 365 / 30. */
  readonly accessLogDays: number;
  readonly oldVersionDays: number;
  /** Days a rejected upload stays in quarantine/. Default 30. */
  readonly quarantineDays: number;
}

export const DEFAULT_SETTINGS: Omit<
  DeploymentSettings,
  'modelsPrefix' | 'generatorBaseModel' | 'targetBaseModel' | 'modelsBucketAccount' | 'breakGlassRoleName'
> = {
  instanceTypes: {},
  defaultEpsilon: 8,
  accessLogDays: 365,
  oldVersionDays: 30,
  quarantineDays: 30,
};

const S3_URI = /^s3:\/\/[a-z0-9.-]{3,63}\/.*$/;

export class SettingsError extends Error {
  constructor(key: string, message: string) {
    super(`context ${key}: ${message}`);
    this.name = 'SettingsError';
  }
}

/** The longest common `s3://bucket/…/` prefix of two URIs, ending at a slash. */
function commonPrefix(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i += 1;
  return a.slice(0, a.lastIndexOf('/', i - 1) + 1);
}

/** Reads and checks the settings; an overridden value wins over the context, the context over the default. */
export function resolveSettings(
  node: Pick<Node, 'tryGetContext'>,
  overrides: Partial<DeploymentSettings> = {},
): DeploymentSettings {
  const ctx = (key: string) => node.tryGetContext(key) as unknown;
  const str = (key: string, fallback: string) => {
    const v = ctx(key);
    return v === undefined ? fallback : String(v);
  };
  const num = (key: string, fallback: number) => {
    const v = ctx(key);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new SettingsError(key, 'must be a positive number');
    return n;
  };
  // No default bucket: a bucket name we chose could be created by anyone, and the jobs would load its weights.
  const required = (key: 'generatorBaseModel' | 'targetBaseModel') => {
    const v = overrides[key] ?? ctx(key);
    if (v === undefined || v === '')
      throw new SettingsError(
        key,
        `required: the S3 URI of the base model's Hugging Face folder in a bucket you own, e.g. ` +
          `cdk deploy -c ${key}=s3://my-models/rewardds/<model>/ (docs/operations.md, "Deploy")`,
      );
    return String(v);
  };
  const generatorBaseModel = required('generatorBaseModel');
  const targetBaseModel = required('targetBaseModel');
  for (const [key, uri] of [
    ['generatorBaseModel', generatorBaseModel],
    ['targetBaseModel', targetBaseModel],
  ] as const) {
    if (!S3_URI.test(uri)) throw new SettingsError(key, `must be an s3://bucket/prefix/ URI, got ${uri}`);
  }
  const modelsPrefix = overrides.modelsPrefix ?? str('modelsPrefix', commonPrefix(generatorBaseModel, targetBaseModel));
  if (!/^s3:\/\/[a-z0-9.-]{3,63}\/(.*\/)?$/.test(modelsPrefix))
    throw new SettingsError(
      'modelsPrefix',
      `must be an s3://bucket/ or s3://bucket/prefix/ URI ending in /, got ${modelsPrefix}`,
    );
  for (const [key, uri] of [
    ['generatorBaseModel', generatorBaseModel],
    ['targetBaseModel', targetBaseModel],
  ] as const) {
    if (!uri.startsWith(modelsPrefix)) throw new SettingsError(key, `must lie under modelsPrefix ${modelsPrefix}`);
  }
  const rawTypes = ctx('instanceTypes');
  const instanceTypes =
    overrides.instanceTypes ?? (typeof rawTypes === 'string' ? JSON.parse(rawTypes) : (rawTypes ?? {}));
  for (const [role, type] of Object.entries(instanceTypes as Record<string, unknown>)) {
    if (!['proxyTraining', 'targetTraining', 'generation', 'evaluation'].includes(role))
      throw new SettingsError('instanceTypes', `unknown role ${role}`);
    if (typeof type !== 'string' || !/^ml\.[a-z0-9-]+\.[a-z0-9]+$/.test(type))
      throw new SettingsError(`instanceTypes.${role}`, 'must be an ml.* instance type');
  }
  const rawAccount = overrides.modelsBucketAccount ?? ctx('modelsBucketAccount');
  const modelsBucketAccount = rawAccount === undefined ? undefined : String(rawAccount);
  if (modelsBucketAccount !== undefined && !/^\d{12}$/.test(modelsBucketAccount))
    throw new SettingsError('modelsBucketAccount', 'must be a 12-digit account id');
  const rawBreakGlass = overrides.breakGlassRoleName ?? ctx('breakGlassRoleName');
  const breakGlassRoleName = rawBreakGlass === undefined ? undefined : String(rawBreakGlass);
  if (breakGlassRoleName !== undefined) checkRoleName('breakGlassRoleName', breakGlassRoleName);
  const alarmEmail = overrides.alarmEmail ?? (ctx('alarmEmail') as string | undefined);
  if (alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+$/.test(alarmEmail))
    throw new SettingsError('alarmEmail', 'must be an e-mail address');
  return {
    modelsPrefix,
    generatorBaseModel,
    targetBaseModel,
    modelsBucketAccount,
    breakGlassRoleName,
    instanceTypes,
    defaultEpsilon: overrides.defaultEpsilon ?? num('defaultEpsilon', DEFAULT_SETTINGS.defaultEpsilon),
    alarmEmail,
    accessLogDays: overrides.accessLogDays ?? num('accessLogDays', DEFAULT_SETTINGS.accessLogDays),
    oldVersionDays: overrides.oldVersionDays ?? num('oldVersionDays', DEFAULT_SETTINGS.oldVersionDays),
    quarantineDays: overrides.quarantineDays ?? num('quarantineDays', DEFAULT_SETTINGS.quarantineDays),
  };
}

/** IAM's rule for role names: 1–64 of letters, digits and `+=,.@_-`. */
export function checkRoleName(key: string, name: string): void {
  if (!/^[\w+=,.@-]{1,64}$/.test(name))
    throw new SettingsError(key, `must be an IAM role name (1-64 of letters, digits, +=,.@_-), got ${name}`);
}

/** The break-glass role's name: the one given, or one derived from the stack's name. */
export function breakGlassRoleName(
  settings: Pick<DeploymentSettings, 'breakGlassRoleName'>,
  stackName: string,
): string {
  const name = settings.breakGlassRoleName ?? `${stackName}-private-break-glass`;
  checkRoleName(
    settings.breakGlassRoleName ? 'breakGlassRoleName' : 'breakGlassRoleName (derived from the stack name; set it)',
    name,
  );
  return name;
}

/** `s3://bucket/prefix/` → bucket and key prefix, for IAM resources. */
export function splitS3Prefix(uri: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!match) throw new Error(`not an s3:// URI: ${uri}`);
  return { bucket: match[1]!, prefix: match[2]! };
}
