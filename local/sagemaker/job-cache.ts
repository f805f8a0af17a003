/**
 * The local job-result cache (opt-in; docs/operations.md, local mode): a folder of
 * finished jobs' outputs by key (job-cache-key.ts). An entry holds exactly what the job
 * wrote to the folders SageMaker uploads — model, output data or each processing output —
 * plus its log, and the run-neutral S3 location each output went to. It is served only to
 * a job whose outputs go to the same locations (translated to the new run), so an entry
 * can never put a private-zone job's output anywhere that job would not have written it.
 *
 * Entries hold private-zone outputs (proxy models, pairs) on local disk: the cache folder is
 * in the same trust zone as the local private bucket (docs/privacy.md).
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { walkFiles } from '../s3-folders.js';
import { stableJson, treeDigest, type TreeFile } from './job-cache-key.js';

/** One output of a job: a name (`model`, `data`, or the processing output's), its local folder and its run-neutral S3 location. */
export interface CachedOutput {
  name: string;
  /** The output's S3 location with the run's names replaced (runNameRemover). */
  location: string;
}

interface Manifest {
  key: string;
  stage: string;
  /** The job whose outputs these are (the first run's). */
  sourceJob: string;
  createdAt: string;
  /** What the key digests (job-cache-key.ts): the run-neutral request, input digests, code and runtime. */
  material?: Record<string, unknown>;
  outputs: (CachedOutput & { files: TreeFile[] })[];
}

/** An entry found for a key, verified: every file present with the bytes it was stored with. */
export interface CacheHit {
  key: string;
  sourceJob: string;
  createdAt: string;
}

const sha256File = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Every file below `folder` with its digest; empty when the folder is absent. */
export function treeFiles(folder: string): TreeFile[] {
  return [...walkFiles(folder)].map((file) => ({
    path: relative(folder, file).split(sep).join('/'),
    sha256: sha256File(file),
  }));
}

/** Digest of the job code: every source file under `<jobsDir>/rewardds_jobs` (bytecode caches left out). */
export function jobCodeVersion(jobsDir: string): string {
  const root = join(jobsDir, 'rewardds_jobs');
  return treeDigest(treeFiles(root).filter((f) => !f.path.includes('__pycache__/') && !f.path.endsWith('.pyc')));
}

/**
 * What else decides a job's result here: the interpreter, the packages installed beside it
 * (their dist-info folder names carry name and version) and the extra job environment.
 */
export function jobRuntime(python: string, extraEnv: Record<string, string> | undefined): Record<string, string> {
  const venv = dirname(dirname(python));
  const lib = join(venv, 'lib');
  const packages: string[] = [];
  if (existsSync(lib)) {
    for (const version of readdirSync(lib).filter((d) => d.startsWith('python'))) {
      const site = join(lib, version, 'site-packages');
      if (existsSync(site)) packages.push(...readdirSync(site).filter((d) => d.endsWith('.dist-info')));
    }
  }
  return {
    python,
    packages: packages.length ? createHash('sha256').update(packages.sort().join('\n')).digest('hex') : 'unknown',
    env: stableJson(extraEnv ?? {}),
  };
}

export class JobCache {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  /**
   * The entry of `key`, if it is whole and its outputs went to exactly `outputs`' locations;
   * anything else (absent, damaged, other locations) is a miss.
   */
  lookup(key: string, outputs: CachedOutput[]): CacheHit | undefined {
    const manifest = this.manifest(key);
    if (!manifest || manifest.key !== key) return undefined;
    if (!sameLocations(manifest.outputs, outputs)) return undefined;
    try {
      for (const output of manifest.outputs) {
        for (const file of output.files) {
          const path = this.filePath(key, output.name, file.path);
          if (!existsSync(path) || sha256File(path) !== file.sha256) return undefined;
        }
      }
    } catch {
      return undefined;
    }
    return { key, sourceJob: manifest.sourceJob, createdAt: manifest.createdAt };
  }

  /** Copies the entry's outputs into the job's (empty) output folders and writes its log. */
  restore(hit: CacheHit, folders: Record<string, string>, logPath: string): void {
    const manifest = this.manifest(hit.key)!;
    for (const output of manifest.outputs) {
      const target = folders[output.name];
      if (target === undefined) throw new Error(`job cache entry ${hit.key}: no folder for output ${output.name}`);
      for (const file of output.files) {
        const to = join(target, file.path);
        if (!resolve(to).startsWith(resolve(target) + sep))
          throw new Error(`job cache entry ${hit.key}: bad path ${file.path}`);
        mkdirSync(dirname(to), { recursive: true });
        copyFileSync(this.filePath(hit.key, output.name, file.path), to);
      }
    }
    const log = join(this.dir, hit.key, 'job.log');
    writeFileSync(
      logPath,
      `reused from cache ${hit.key}: the outputs of job ${hit.sourceJob} (${hit.createdAt}); its log follows\n`,
    );
    if (existsSync(log)) appendFileSync(logPath, readFileSync(log));
  }

  /** Stores a finished job's outputs under `key` (whole or not at all: written aside, then renamed). */
  store(
    key: string,
    job: { stage: string; name: string; logPath: string; material?: Record<string, unknown> },
    outputs: (CachedOutput & { local: string })[],
  ): void {
    const final = join(this.dir, key);
    if (existsSync(join(final, 'manifest.json'))) return;
    const tmp = join(this.dir, `.tmp-${key}-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      const manifest: Manifest = {
        key,
        stage: job.stage,
        sourceJob: job.name,
        createdAt: new Date().toISOString(),
        ...(job.material ? { material: job.material } : {}),
        outputs: outputs.map((output) => {
          const files = treeFiles(output.local);
          for (const file of files) {
            const to = join(tmp, 'outputs', output.name, file.path);
            mkdirSync(dirname(to), { recursive: true });
            copyFileSync(join(output.local, file.path), to);
          }
          return { name: output.name, location: output.location, files };
        }),
      };
      if (existsSync(job.logPath)) copyFileSync(job.logPath, join(tmp, 'job.log'));
      writeFileSync(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
      rmSync(final, { recursive: true, force: true });
      renameSync(tmp, final);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  private manifest(key: string): Manifest | undefined {
    if (!/^[0-9a-f]{64}$/.test(key)) return undefined;
    const path = join(this.dir, key, 'manifest.json');
    if (!existsSync(path)) return undefined;
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
    } catch {
      return undefined;
    }
  }

  private filePath(key: string, output: string, path: string): string {
    const root = join(this.dir, key, 'outputs', output);
    const file = join(root, path);
    // A manifest path that leaves its folder is a damaged entry, never a file elsewhere on this machine.
    if (!resolve(file).startsWith(resolve(root) + sep)) throw new Error(`job cache entry ${key}: bad path ${path}`);
    return file;
  }
}

/** The same outputs, by name, each to the same run-neutral location. */
function sameLocations(stored: CachedOutput[], wanted: CachedOutput[]): boolean {
  const key = (outputs: CachedOutput[]) =>
    stableJson(outputs.map((o) => ({ name: o.name, location: o.location })).sort((a, b) => (a.name < b.name ? -1 : 1)));
  return key(stored) === key(wanted);
}
