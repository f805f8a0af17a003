/**
 * Where selection outputs go. A sink lands whole or not at all (`done` / `abort`), which
 * S3 multipart uploads give for free and local files get by writing aside and renaming
 * (the adapters: functions/shared/selection/s3-io.ts, cli/file-sinks.ts).
 */

export interface TextSink {
  write(chunk: string): Promise<void>;
  /** Flushes and makes the output visible. */
  done(): Promise<void>;
  /** Drops whatever was written; the output stays absent. */
  abort(): Promise<void>;
}

/**
 * Gathers small writes into ~64 KiB chunks: one await per JSONL line would cost more than
 * the selection itself on a million-candidate file.
 */
export function batched(sink: TextSink, chunkChars = 1 << 16): TextSink {
  let buffer = '';
  return {
    async write(chunk) {
      buffer += chunk;
      if (buffer.length >= chunkChars) {
        const full = buffer;
        buffer = '';
        await sink.write(full);
      }
    },
    async done() {
      if (buffer) await sink.write(buffer);
      buffer = '';
      await sink.done();
    },
    async abort() {
      buffer = '';
      await sink.abort();
    },
  };
}

/** Writes into sinks, aborting every one of them if `work` throws, so no partial output is left. */
export async function withSinks<T>(sinks: TextSink[], work: () => Promise<T>): Promise<T> {
  try {
    const result = await work();
    for (const sink of sinks) await sink.done();
    return result;
  } catch (error) {
    await Promise.allSettled(sinks.map((sink) => sink.abort()));
    throw error;
  }
}

/**
 * A sink created on first use: the pool's upload is opened only once the pool is known,
 * rather than idling through the whole first pass.
 */
export function lazySink(create: () => TextSink): TextSink {
  let sink: TextSink | undefined;
  const get = () => (sink ??= create());
  return {
    write: (chunk) => get().write(chunk),
    done: () => get().done(),
    abort: async () => {
      if (sink) await sink.abort();
    },
  };
}
