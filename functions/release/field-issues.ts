/**
 * Why a job's file is not aggregates only, said by field path alone: the values stay
 * unquoted, since a stray field may hold a private record (a sample answer, a secret).
 */
import type { z } from 'zod';

/** `path: reason` per issue, `;`-joined; a stray field is named by its key, never shown. */
export function fieldIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const path = i.path.join('.') || '(root)';
      return i.code === 'unrecognized_keys'
        ? `${path}: unexpected field(s) ${i.keys.join(', ')}`
        : `${path}: ${i.message}`;
    })
    .join('; ');
}
