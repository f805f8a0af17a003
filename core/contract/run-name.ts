/**
 * Which uploads start a run, and the run's name (docs/state-contract.md). The name is the
 * Step Functions execution name, so it must be readable in the console and the same for
 * the same object: that is what makes a repeated event start nothing new.
 */
import { createHash } from 'node:crypto';
import { INCOMING_PREFIX } from './layout.js';

const MAX_NAME = 40;
const HASH_CHARS = 8;

export type UploadLayout = { kind: 'file'; name: string } | { kind: 'folder'; name: string; folder: string };

/**
 * `incoming/<name>.jsonl` or `incoming/<name>/train.jsonl`; undefined for anything else
 * (the config, test and seeds files beside train.jsonl, nested folders, other suffixes).
 */
export function uploadLayout(key: string): UploadLayout | undefined {
  if (!key.startsWith(INCOMING_PREFIX)) return undefined;
  const rest = key.slice(INCOMING_PREFIX.length);
  const file = /^([^/]+)\.jsonl$/.exec(rest);
  if (file) return { kind: 'file', name: file[1]! };
  const folder = /^([^/]+)\/train\.jsonl$/.exec(rest);
  if (folder) return { kind: 'folder', name: folder[1]!, folder: `${INCOMING_PREFIX}${folder[1]}/` };
  return undefined;
}

/** Lower case, `[a-z0-9-]`, at most 40 characters, never empty. */
export function readableName(name: string): string {
  const slug = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_NAME)
    .replace(/-+$/, '');
  return slug || 'upload';
}

/**
 * S3 quotes ETags in API responses but EventBridge sends them bare; both must give the
 * same run, so the quotes are dropped before hashing.
 */
export const bareEtag = (etag: string) => etag.replace(/^"|"$/g, '');

/** `<readable name>-<first 8 hex of sha256(key + ETag)>`. */
export function runName(key: string, etag: string): string {
  const layout = uploadLayout(key);
  const base = readableName(
    layout
      ? layout.name
      : key
          .split('/')
          .pop()!
          .replace(/\.jsonl$/, ''),
  );
  const hash = createHash('sha256')
    .update(key + bareEtag(etag))
    .digest('hex')
    .slice(0, HASH_CHARS);
  return `${base}-${hash}`;
}
