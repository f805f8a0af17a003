/** The selection's output plumbing (core/selection/sinks.ts) and run-report summaries (stats.ts). */
import { describe, expect, it } from 'vitest';
import { batched, lazySink, RunningSummary, type TextSink, withSinks } from '../../../core/selection/index.js';
import { memorySink } from '../../helpers/memory-io.js';

/** A sink that records each call, to see how writes are grouped. */
function recording() {
  const calls: string[] = [];
  const sink: TextSink = {
    write: async (chunk) => void calls.push(`write ${chunk}`),
    done: async () => void calls.push('done'),
    abort: async () => void calls.push('abort'),
  };
  return { sink, calls };
}

describe('batched', () => {
  it('passes writes on in chunks of at least chunkChars, and the rest on done', async () => {
    const { sink, calls } = recording();
    const out = batched(sink, 4);
    for (const chunk of ['ab', 'c', 'de', 'f', 'g']) await out.write(chunk);
    expect(calls).toEqual(['write abcde']);
    await out.done();
    expect(calls).toEqual(['write abcde', 'write fg', 'done']);
  });

  it('flushes at exactly chunkChars, and drops the buffer on abort', async () => {
    const first = recording();
    const exact = batched(first.sink, 2);
    await exact.write('ab');
    await exact.write('c');
    await exact.done();
    expect(first.calls).toEqual(['write ab', 'write c', 'done']);
    const second = recording();
    const dropped = batched(second.sink, 10);
    await dropped.write('secret');
    await dropped.abort();
    expect(second.calls).toEqual(['abort']);
  });

  it('passes no empty write on at done when nothing is left in the buffer', async () => {
    const { sink, calls } = recording();
    const out = batched(sink, 2);
    await out.write('ab');
    await out.done();
    expect(calls).toEqual(['write ab', 'done']);
  });
});

describe('withSinks', () => {
  it('closes every sink after the work, or aborts every one when it throws', async () => {
    const [a, b] = [memorySink(), memorySink()];
    expect(await withSinks([a, b], async () => 7)).toBe(7);
    expect([a.state(), b.state()]).toEqual(['done', 'done']);
    const [c, d] = [memorySink(), memorySink()];
    const error = await withSinks([c, d], async () => {
      await c.write('partial');
      throw new Error('boom');
    }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('boom');
    expect([c.state(), d.state(), c.text()]).toEqual(['aborted', 'aborted', '']);
  });
});

describe('lazySink', () => {
  it('creates its sink on first use only, once', async () => {
    let created = 0;
    const inner = memorySink();
    const sink = lazySink(() => {
      created += 1;
      return inner;
    });
    await sink.abort();
    expect(created).toBe(0);
    await sink.write('a');
    await sink.write('b');
    await sink.done();
    expect(created).toBe(1);
    expect([inner.text(), inner.state()]).toEqual(['ab', 'done']);
  });

  it('aborts a sink it created', async () => {
    const inner = memorySink();
    const sink = lazySink(() => inner);
    await sink.write('a');
    await sink.abort();
    expect(inner.state()).toBe('aborted');
  });
});

describe('RunningSummary', () => {
  it('keeps count, mean, min and max whatever the order', () => {
    const summary = new RunningSummary();
    for (const value of [3, 1, 2]) summary.add(value);
    expect(summary.toJSON()).toEqual({ count: 3, mean: 2, min: 1, max: 3 });
  });

  it('reports nulls, not infinities, when it saw nothing', () => {
    expect(new RunningSummary().toJSON()).toEqual({ count: 0, mean: null, min: null, max: null });
  });
});
