/**
 * Line-by-line JSONL over any byte stream, with 1-based line numbers, so every error can
 * name the file and line. Memory holds one line at a time, never the file.
 */
import type { Readable } from 'node:stream';

/** Bad input: names the file, the line and the field, never the record's text. */
export class InputError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly field: string | undefined,
    readonly reason: string,
  ) {
    super(`${[file, line, field].filter((p) => p !== undefined).join(':')}: ${reason}`);
    this.name = 'InputError';
  }

  toJSON() {
    return { file: this.file, line: this.line, field: this.field, reason: this.reason, message: this.message };
  }
}

export interface JsonlLine {
  line: number;
  value: unknown;
}

export interface ReadJsonlOptions {
  /** Longest accepted line in bytes; longer lines are refused. */
  maxLineBytes?: number;
  /** Skip lines that are empty or only whitespace (default true). */
  skipBlank?: boolean;
}

/** Yields each line's parsed JSON with its line number. Bytes that are not UTF-8 are refused. */
export async function* readJsonl(
  stream: Readable | AsyncIterable<Uint8Array | string>,
  file: string,
  options: ReadJsonlOptions = {},
): AsyncGenerator<JsonlLine> {
  const { maxLineBytes = Infinity, skipBlank = true } = options;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let lineNo = 0;
  const tooLong = () => new InputError(file, lineNo, undefined, `line is over the ${maxLineBytes}-byte limit`);
  const lines = splitLines(stream, maxLineBytes);
  // A manual loop so the limit error can carry the line number; closes the splitter on early exit.
  try {
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await lines.next();
      } catch (error) {
        if (!(error instanceof LineTooLong)) throw error;
        lineNo += 1;
        throw tooLong();
      }
      if (next.done) break;
      const raw = next.value;
      lineNo += 1;
      if (raw.byteLength > maxLineBytes) throw tooLong();
      let text: string;
      try {
        text = decoder.decode(raw);
      } catch {
        throw new InputError(file, lineNo, undefined, 'not valid UTF-8');
      }
      if (lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      if (text.trim() === '') {
        if (skipBlank) continue;
        throw new InputError(file, lineNo, undefined, 'blank line');
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        // V8's message quotes the text it failed on (a private record): keep only the position.
        const at = /at position (\d+)/.exec((error as Error).message);
        throw new InputError(file, lineNo, undefined, at ? `not JSON (at character ${Number(at[1]) + 1})` : 'not JSON');
      }
      yield { line: lineNo, value };
    }
  } finally {
    await lines.return(undefined);
  }
}

/** Thrown by splitLines once an unfinished line passes its limit, so it is never buffered whole. */
export class LineTooLong extends Error {}

/**
 * Splits a byte stream on \n (dropping a trailing \r), yielding raw bytes per line.
 * A line still growing past `maxLineBytes` (+1 for a \r) throws LineTooLong.
 */
export async function* splitLines(
  stream: Readable | AsyncIterable<Uint8Array | string>,
  maxLineBytes = Infinity,
): AsyncGenerator<Uint8Array> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of stream as AsyncIterable<Uint8Array | string>) {
    let buf =
      typeof chunk === 'string'
        ? Buffer.from(chunk, 'utf8')
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let nl = buf.indexOf(0x0a); nl !== -1; nl = buf.indexOf(0x0a)) {
      const head = buf.subarray(0, nl);
      const line = pendingBytes ? Buffer.concat([...pending, head], pendingBytes + head.length) : head;
      pending = [];
      pendingBytes = 0;
      yield stripCr(line);
      buf = buf.subarray(nl + 1);
    }
    if (buf.length) {
      pending.push(Buffer.from(buf));
      pendingBytes += buf.length;
      if (pendingBytes > maxLineBytes + 1) throw new LineTooLong();
    }
  }
  if (pendingBytes) yield stripCr(Buffer.concat(pending, pendingBytes));
}

const stripCr = (line: Buffer) => (line.length && line[line.length - 1] === 0x0d ? line.subarray(0, -1) : line);

/** Serializes one record as a JSONL line. */
export const toJsonlLine = (record: unknown) => `${JSON.stringify(record)}\n`;
