/**
 * CloudFormation orders a resource after every resource it names with Ref or Fn::GetAtt;
 * a DependsOn on one of those says it twice (cfn-lint W3005). CDK adds such entries for
 * construct dependencies (a Lambda on its role), so the stack drops them from its template.
 */

type Resource = { DependsOn?: string | string[]; [key: string]: unknown };

/** Logical ids `value` refers to by Ref, Fn::GetAtt or a `${Id}`/`${Id.Attr}` in Fn::Sub. */
export function referencedIds(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) referencedIds(item, found);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'Ref' && typeof child === 'string') found.add(child);
      else if (key === 'Fn::GetAtt') found.add(Array.isArray(child) ? String(child[0]) : String(child).split('.')[0]!);
      else if (key === 'Fn::Sub') {
        const [text, variables] = Array.isArray(child) ? child : [child, {}];
        const local = new Set(Object.keys((variables ?? {}) as object));
        for (const m of String(text).matchAll(/\$\{([A-Za-z0-9]+)(\.[^}]*)?\}/g))
          if (!local.has(m[1]!)) found.add(m[1]!);
        referencedIds(variables, found);
      } else referencedIds(child, found);
    }
  }
  return found;
}

/** The template with every DependsOn entry that a reference already implies removed. */
export function withoutRedundantDependsOn<T extends { Resources?: Record<string, Resource> }>(template: T): T {
  for (const resource of Object.values(template.Resources ?? {})) {
    if (resource.DependsOn === undefined) continue;
    const { DependsOn, ...rest } = resource;
    const referenced = referencedIds(rest);
    const kept = (Array.isArray(DependsOn) ? DependsOn : [DependsOn]).filter((id) => !referenced.has(id));
    if (kept.length === 0) delete resource.DependsOn;
    else resource.DependsOn = kept;
  }
  return template;
}
