import { describe, expect, it } from 'vitest';
import { referencedIds, withoutRedundantDependsOn } from '../../infra/redundant-depends-on.js';

describe('withoutRedundantDependsOn', () => {
  it('drops a DependsOn the resource’s own Ref or GetAtt already implies, and keeps the others', () => {
    const template = {
      Resources: {
        Fn: {
          Type: 'AWS::Lambda::Function',
          DependsOn: ['FnRoleDefaultPolicy', 'FnRole'],
          Properties: { Role: { 'Fn::GetAtt': ['FnRole', 'Arn'] } },
        },
        Sm: {
          Type: 'AWS::StepFunctions::StateMachine',
          DependsOn: 'SmRole',
          Properties: { RoleArn: { Ref: 'SmRole' } },
        },
        Other: { Type: 'AWS::SNS::Topic', DependsOn: ['Fn'], Properties: {} },
      },
    };
    expect(withoutRedundantDependsOn(template).Resources).toEqual({
      Fn: {
        Type: 'AWS::Lambda::Function',
        DependsOn: ['FnRoleDefaultPolicy'],
        Properties: { Role: { 'Fn::GetAtt': ['FnRole', 'Arn'] } },
      },
      Sm: { Type: 'AWS::StepFunctions::StateMachine', Properties: { RoleArn: { Ref: 'SmRole' } } },
      Other: { Type: 'AWS::SNS::Topic', DependsOn: ['Fn'], Properties: {} },
    });
  });

  it('reads references in every intrinsic form', () => {
    const ids = referencedIds({
      a: { Ref: 'A' },
      b: [{ 'Fn::GetAtt': 'B.Arn' }],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax, not a JS template
      c: { 'Fn::Sub': ['${C.Arn}/${AWS::Region}/${x}', { x: { Ref: 'D' } }] },
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax, not a JS template
      e: { 'Fn::Sub': 'arn:${E}' },
    });
    // `${x}` is the Sub's own variable and `${AWS::Region}` a pseudo parameter: neither is a resource.
    expect([...ids].sort()).toEqual(['A', 'B', 'C', 'D', 'E']);
  });
});
