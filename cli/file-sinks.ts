/**
 * The selection's sources and sinks on local files, for `rewardds select`: a sink is
 * written aside and renamed into place, so it lands whole or not at all.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import type { Source, TextSink } from '../core/selection/index.js';

/** A local file written under a temporary name and renamed into place by `done`. */
export function fileSink(path: string): TextSink {
  const partial = `${path}.partial-${process.pid}`;
  const stream = createWriteStream(partial);
  let failure: Error | undefined;
  stream.on('error', (error) => {
    failure = error;
  });
  return {
    async write(chunk) {
      if (failure) throw failure;
      if (!stream.write(chunk)) await once(stream, 'drain');
    },
    async done() {
      if (failure) throw failure;
      stream.end();
      await once(stream, 'finish');
      await rename(partial, path);
    },
    async abort() {
      stream.destroy();
      await rm(partial, { force: true });
    },
  };
}

export function fileSource(path: string): Source {
  return { file: path, open: async () => createReadStream(path, { highWaterMark: 1 << 20 }) };
}
