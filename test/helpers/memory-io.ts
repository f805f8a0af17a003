/** In-memory sources and sinks for the selection tests. */
import { Readable } from 'node:stream';
import type { Source, TextSink } from '../../core/selection/index.js';

export interface MemorySink extends TextSink {
  text(): string;
  state(): 'open' | 'done' | 'aborted';
}

export function memorySink(): MemorySink {
  let written = '';
  let state: 'open' | 'done' | 'aborted' = 'open';
  return {
    async write(chunk) {
      if (state !== 'open') throw new Error(`write after ${state}`);
      written += chunk;
    },
    async done() {
      state = 'done';
    },
    async abort() {
      state = 'aborted';
      written = '';
    },
    text: () => written,
    state: () => state,
  };
}

/** Serves `text` in small, uneven chunks so that lines straddle chunk boundaries. */
export function memorySource(file: string, text: string): Source {
  return {
    file,
    open: async () => {
      const bytes = Buffer.from(text, 'utf8');
      const chunks: Buffer[] = [];
      for (let at = 0, size = 7; at < bytes.length; at += size, size = ((size * 3) % 61) + 5)
        chunks.push(bytes.subarray(at, at + size));
      return Readable.from(chunks);
    },
  };
}

export const jsonl = (records: unknown[]) => records.map((r) => `${JSON.stringify(r)}\n`).join('');

export const parseJsonl = <T = Record<string, unknown>>(text: string): T[] =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as T);
