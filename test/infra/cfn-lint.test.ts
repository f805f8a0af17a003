/**
 * cfn-lint (pinned in jobs/requirements-cpu.txt, run from the venv) on the synthesized
 * template: no error, and every warning acknowledged with a reason in
 * infra/cfn-lint-acknowledgements.json.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/constructs/pipeline-function.js';
import { defaultTemplateJson } from './synth.js';

const CFN_LINT = path.join(REPO_ROOT, '.venv', 'bin', 'cfn-lint');

interface Finding {
  Level: 'Error' | 'Warning' | 'Informational';
  Rule: { Id: string };
  Location: { Path: (string | number)[] };
  Message: string;
}
interface Acknowledgement {
  rule: string;
  resource: string;
  reason: string;
}

/** cfn-lint's findings on one template file, as JSON (exit code 0 none, 2 errors, 4 warnings). */
function lint(templatePath: string): Finding[] {
  try {
    return JSON.parse(
      execFileSync(CFN_LINT, ['--format', 'json', '--regions', 'us-east-1', '--', templatePath], { encoding: 'utf8' }),
    );
  } catch (error) {
    const stdout = (error as { stdout?: string }).stdout;
    if (!stdout) throw error;
    return JSON.parse(stdout);
  }
}

const where = (f: Finding) => f.Location.Path.slice(0, 2).join('/');
const show = (fs: Finding[]) => fs.map((f) => `${f.Rule.Id} ${where(f)}: ${f.Message}`);

let findings: Finding[];
const acknowledged = (
  JSON.parse(readFileSync(path.join(REPO_ROOT, 'infra', 'cfn-lint-acknowledgements.json'), 'utf8')) as {
    acknowledged: Acknowledgement[];
  }
).acknowledged;

beforeAll(async () => {
  expect(existsSync(CFN_LINT), `${CFN_LINT} is missing: make python-deps installs it`).toBe(true);
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'rewardds-cfn-lint-')), 'RewardDS.template.json');
  writeFileSync(file, JSON.stringify(await defaultTemplateJson(), null, 1));
  findings = lint(file);
});

describe('cfn-lint on the synthesized template', () => {
  it('reports no error', () => {
    expect(show(findings.filter((f) => f.Level === 'Error'))).toEqual([]);
  });

  it('reports no warning that infra/cfn-lint-acknowledgements.json does not acknowledge', () => {
    const matches = (f: Finding, a: Acknowledgement) => f.Rule.Id === a.rule && f.Location.Path[1] === a.resource;
    const open = findings.filter((f) => f.Level === 'Warning' && !acknowledged.some((a) => matches(f, a)));
    expect(show(open)).toEqual([]);
    // An acknowledgement that matches nothing is stale: it would silently excuse a future warning.
    const stale = acknowledged.filter((a) => !findings.some((f) => matches(f, a)));
    expect(stale).toEqual([]);
    for (const a of acknowledged) expect(a.reason.length, `${a.rule} ${a.resource}`).toBeGreaterThan(20);
  });

  it('does find what it should (the linter really runs): an obsolete DependsOn and a bad property', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rewardds-cfn-lint-'));
    const file = path.join(dir, 'control.json');
    writeFileSync(
      file,
      JSON.stringify({
        Resources: {
          Topic: { Type: 'AWS::SNS::Topic' },
          Queue: {
            Type: 'AWS::SQS::Queue',
            DependsOn: ['Topic'],
            Properties: { QueueName: { 'Fn::GetAtt': ['Topic', 'TopicName'] }, DelaySeconds: 'soon' },
          },
        },
      }),
    );
    const ids = lint(file).map((f) => `${f.Level} ${f.Rule.Id}`);
    expect(ids).toContain('Warning W3005');
    expect(ids.some((id) => id.startsWith('Error E'))).toBe(true);
  });
});
