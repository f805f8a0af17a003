/**
 * From a synthesized CloudFormation template to what local mode runs: the state
 * machine's definition as plain ASL, which Lambda each task invokes, and each Lambda's
 * environment as it would be on AWS, with every reference resolved to the local stand-in
 * (moto bucket names, moto KMS key ARNs, made-up but well-formed ARNs for the rest).
 *
 * Everything here is a pure function of the template and a table of local names, so it
 * is tested without CDK or moto.
 */

import { namedError } from '../core/contract/index.js';

export interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  DependsOn?: unknown;
}

export interface StackTemplate {
  Resources?: Record<string, TemplateResource>;
  Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
  Parameters?: Record<string, { Default?: unknown }>;
}

export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'us-east-1';

/** What a reference resolves to locally; built once per run from the templates and bootstrap. */
export interface LocalNames {
  /** logical id → the value `Ref` returns (bucket name, key id, function name…). */
  refs: Record<string, string>;
  /** logical id → attribute → value (`Arn` mostly). */
  attrs: Record<string, Record<string, string>>;
  /** export name → value, for Fn::ImportValue across stacks. */
  exports: Record<string, string>;
}

export class TemplateError extends namedError('TemplateError') {}

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': LOCAL_REGION,
  'AWS::AccountId': LOCAL_ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'rewardds-local',
  'AWS::NoValue': '',
};

/** Resolves Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split and Fn::ImportValue; leaves plain data as it is. */
export function resolveIntrinsics(value: unknown, names: LocalNames): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveIntrinsics(item, names));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [fn, arg] = entries[0]!;
    switch (fn) {
      case 'Ref':
        return resolveRef(String(arg), names);
      case 'Fn::GetAtt': {
        const [id, attr] = Array.isArray(arg) ? (arg as string[]) : String(arg).split(/\.(.+)/);
        return resolveAtt(id!, attr!, names);
      }
      case 'Fn::Join': {
        const [sep, parts] = arg as [string, unknown[]];
        const resolved = resolveIntrinsics(parts, names);
        if (!Array.isArray(resolved)) throw new TemplateError('Fn::Join needs a list');
        return resolved.map(String).join(sep);
      }
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        const items = resolveIntrinsics(list, names) as unknown[];
        return items[Number(resolveIntrinsics(index, names))];
      }
      case 'Fn::Split': {
        const [sep, text] = arg as [string, unknown];
        return String(resolveIntrinsics(text, names)).split(sep);
      }
      case 'Fn::Sub':
        return resolveSub(arg, names);
      case 'Fn::ImportValue': {
        const name = String(resolveIntrinsics(arg, names));
        const found = names.exports[name];
        if (found === undefined) throw new TemplateError(`Fn::ImportValue: no stack exports ${name}`);
        return found;
      }
      default:
        if (fn.startsWith('Fn::')) throw new TemplateError(`${fn} is not supported by the local resolver`);
    }
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolveIntrinsics(v, names)]));
}

function resolveRef(id: string, names: LocalNames): string {
  if (id in PSEUDO) return PSEUDO[id]!;
  const value = names.refs[id];
  if (value === undefined) throw new TemplateError(`Ref ${id}: no local stand-in`);
  return value;
}

function resolveAtt(id: string, attr: string, names: LocalNames): string {
  const value = names.attrs[id]?.[attr];
  if (value === undefined) throw new TemplateError(`Fn::GetAtt ${id}.${attr}: no local stand-in`);
  return value;
}

function resolveSub(arg: unknown, names: LocalNames): string {
  const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [String(arg), {}];
  return text.replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
    if (vars && name in vars) return String(resolveIntrinsics(vars[name], names));
    const dot = name.indexOf('.');
    return dot > 0 ? resolveAtt(name.slice(0, dot), name.slice(dot + 1), names) : resolveRef(name, names);
  });
}

/** CDK logical ids end in an 8-hex hash; local names drop it so they stay readable. */
export function readableId(logicalId: string): string {
  return logicalId.replace(/[0-9A-F]{8}$/, '');
}

/** A bucket name S3 accepts, derived from the logical id. */
export function localBucketName(logicalId: string, prefix = 'rewardds-local'): string {
  const slug = readableId(logicalId)
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-');
  return `${prefix}-${slug}`.slice(0, 63).replace(/-+$/, '');
}

const arn = (service: string, resource: string, region = LOCAL_REGION) =>
  `arn:aws:${service}:${region}:${LOCAL_ACCOUNT}:${resource}`;

/**
 * Local stand-ins for every resource of every template. `kmsKeyArns` comes from the keys
 * bootstrap created in moto (logical id → ARN); buckets get names from their logical ids.
 */
export function localNames(templates: StackTemplate[], kmsKeyArns: Record<string, string> = {}): LocalNames {
  const names: LocalNames = { refs: {}, attrs: {}, exports: {} };
  for (const template of templates) {
    for (const [id, resource] of Object.entries(template.Resources ?? {})) {
      const { ref, attrs } = standIn(id, resource, kmsKeyArns);
      names.refs[id] = ref;
      names.attrs[id] = attrs;
    }
    for (const [id, parameter] of Object.entries(template.Parameters ?? {})) {
      if (parameter.Default !== undefined) names.refs[id] = String(parameter.Default);
    }
  }
  // Exports may refer to anything above; resolve them once every resource has a name.
  for (const template of templates) {
    for (const output of Object.values(template.Outputs ?? {})) {
      if (!output.Export) continue;
      try {
        names.exports[String(resolveIntrinsics(output.Export.Name, names))] = String(
          resolveIntrinsics(output.Value, names),
        );
      } catch {
        // An export local mode never imports may use something it cannot resolve.
      }
    }
  }
  return names;
}

function standIn(
  id: string,
  resource: TemplateResource,
  kmsKeyArns: Record<string, string>,
): { ref: string; attrs: Record<string, string> } {
  const props = resource.Properties ?? {};
  switch (resource.Type) {
    case 'AWS::S3::Bucket': {
      const name = typeof props.BucketName === 'string' ? props.BucketName : localBucketName(id);
      return {
        ref: name,
        attrs: {
          Arn: `arn:aws:s3:::${name}`,
          DomainName: `${name}.s3.amazonaws.com`,
          RegionalDomainName: `${name}.s3.${LOCAL_REGION}.amazonaws.com`,
        },
      };
    }
    case 'AWS::KMS::Key': {
      const keyArn = kmsKeyArns[id] ?? arn('kms', `key/${id}`);
      return { ref: keyArn.split('/').pop()!, attrs: { Arn: keyArn, KeyId: keyArn.split('/').pop()! } };
    }
    case 'AWS::Lambda::Function':
      return { ref: id, attrs: { Arn: arn('lambda', `function:${id}`) } };
    case 'AWS::StepFunctions::StateMachine':
      return {
        ref: arn('states', `stateMachine:${id}`),
        attrs: { Arn: arn('states', `stateMachine:${id}`), Name: id },
      };
    case 'AWS::IAM::Role':
      return { ref: id, attrs: { Arn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/${id}`, RoleId: id } };
    case 'AWS::SNS::Topic':
      return { ref: arn('sns', id), attrs: { TopicArn: arn('sns', id) } };
    case 'AWS::SQS::Queue':
      return {
        ref: `https://sqs.${LOCAL_REGION}.amazonaws.com/${LOCAL_ACCOUNT}/${id}`,
        attrs: { Arn: arn('sqs', id), QueueName: id },
      };
    case 'AWS::Logs::LogGroup':
      return { ref: id, attrs: { Arn: arn('logs', `log-group:${id}:*`) } };
    case 'AWS::ECR::Repository':
      return {
        ref: id.toLowerCase(),
        attrs: {
          Arn: arn('ecr', `repository/${id.toLowerCase()}`),
          RepositoryUri: `${LOCAL_ACCOUNT}.dkr.ecr.${LOCAL_REGION}.amazonaws.com/${id.toLowerCase()}`,
        },
      };
    default:
      return { ref: id, attrs: { Arn: arn('local', id) } };
  }
}

/** The one resource of `type`, with its logical id; an error naming the count otherwise. */
export function findResources(
  templates: StackTemplate[],
  type: string,
): { id: string; resource: TemplateResource; template: StackTemplate }[] {
  const found: { id: string; resource: TemplateResource; template: StackTemplate }[] = [];
  for (const template of templates) {
    for (const [id, resource] of Object.entries(template.Resources ?? {})) {
      if (resource.Type === type) found.push({ id, resource, template });
    }
  }
  return found;
}

// ---- the state machine ----------------------------------------------------------------

export interface AslState {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  Branches?: AslDefinition[];
  Iterator?: AslDefinition;
  ItemProcessor?: AslDefinition;
  [key: string]: unknown;
}

export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  QueryLanguage?: string;
  [key: string]: unknown;
}

/** A task that invokes a Lambda: how its input arrives and which function it is. */
export interface LambdaTask {
  state: string;
  functionId: string;
  /** `arn:…:states:::lambda:invoke` passes `{FunctionName, Payload}` and expects `{Payload}` back. */
  integration: 'invoke' | 'direct';
}

/** The function's logical id from a Lambda ARN or name as the local names table resolves them. */
export function functionIdOf(reference: string): string {
  const match = /function:([^:]+)/.exec(reference);
  return match ? match[1]! : reference;
}

/** Every state of a definition, nested Parallel branches and Map processors included. */
export function* walkStates(definition: AslDefinition): Generator<[string, AslState, AslDefinition]> {
  for (const [name, state] of Object.entries(definition.States)) {
    yield [name, state, definition];
    for (const branch of state.Branches ?? []) yield* walkStates(branch);
    if (state.Iterator) yield* walkStates(state.Iterator);
    if (state.ItemProcessor) yield* walkStates(state.ItemProcessor);
  }
}

/**
 * Checks that local mode can run the definition (JSONPath only: the local engine ignores
 * JSONata silently) and lists its Lambda tasks. Any other Task type is an error here,
 * not a "Region is missing" deep inside a run.
 */
export function lambdaTasks(definition: AslDefinition): LambdaTask[] {
  const tasks: LambdaTask[] = [];
  const jsonata = (d: object) => (d as { QueryLanguage?: unknown }).QueryLanguage === 'JSONata';
  if (jsonata(definition))
    throw new TemplateError('the definition uses JSONata, which the local engine ignores; write it in JSONPath');
  for (const [name, state] of walkStates(definition)) {
    if (jsonata(state) || 'Arguments' in state || 'Assign' in state) {
      throw new TemplateError(`state '${name}' uses JSONata or Assign, which the local engine does not run`);
    }
    if (state.Type !== 'Task') continue;
    const resource = state.Resource ?? '';
    if (/^arn:aws[a-z-]*:states:::lambda:invoke$/.test(resource)) {
      const fn = state.Parameters?.FunctionName ?? state.Parameters?.['FunctionName.$'];
      if (typeof fn !== 'string')
        throw new TemplateError(`state '${name}': lambda:invoke without a literal FunctionName`);
      tasks.push({ state: name, functionId: functionIdOf(fn), integration: 'invoke' });
    } else if (/^arn:aws[a-z-]*:lambda:/.test(resource)) {
      tasks.push({ state: name, functionId: functionIdOf(resource), integration: 'direct' });
    } else {
      throw new TemplateError(
        `state '${name}': task resource ${resource} has no local stand-in (only Lambda tasks run locally)`,
      );
    }
  }
  return tasks;
}

export interface LocalStateMachine {
  logicalId: string;
  definition: AslDefinition;
  tasks: LambdaTask[];
}

/** The template's one state machine, its DefinitionString resolved to plain ASL. */
export function stateMachineOf(templates: StackTemplate[], names: LocalNames): LocalStateMachine {
  const machines = findResources(templates, 'AWS::StepFunctions::StateMachine');
  if (machines.length !== 1) throw new TemplateError(`expected one state machine in the app, found ${machines.length}`);
  const { id, resource } = machines[0]!;
  const props = resource.Properties ?? {};
  const raw = props.DefinitionString ?? props.Definition;
  const resolved = resolveIntrinsics(raw, names);
  const definition = (typeof resolved === 'string' ? JSON.parse(resolved) : resolved) as AslDefinition;
  return { logicalId: id, definition, tasks: lambdaTasks(definition) };
}

/** Each Lambda's environment variables as it has them on AWS, references resolved locally. */
export function lambdaEnvironments(
  templates: StackTemplate[],
  names: LocalNames,
): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const { id, resource } of findResources(templates, 'AWS::Lambda::Function')) {
    const variables =
      (resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    const resolved = resolveIntrinsics(variables, names) as Record<string, unknown>;
    out[id] = Object.fromEntries(Object.entries(resolved).map(([k, v]) => [k, String(v)]));
  }
  return out;
}
