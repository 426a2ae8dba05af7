/**
 * Bounded lines: the output line splitter (cap, dropped-byte count, \n and \r\n, last line without
 * newline, UTF-8 boundaries, slices that yield to the event loop), the logger's 16 KiB message cap
 * and the dashboard log tail's per-line cap.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { capText, logArgs, MAX_MESSAGE_BYTES, truncationNote } from '../../src/observe/line-cap.js';
import { LogTail, MAX_TAIL_TEXT_BYTES } from '../../src/observe/log-tail.js';
import { createLogger } from '../../src/observe/logger.js';
import { LineSplitter, readLines } from '../../src/watchers/output-lines.js';

type Line = [string, number];

/** Feeds the chunks one after the other, as a stream would deliver them. */
function split(chunks: Array<string | Buffer>, max = 8): Line[] {
  const out: Line[] = [];
  const s = new LineSplitter(max);
  const emit = (t: string, d: number): void => void out.push([t, d]);
  for (const c of chunks) s.feed(Buffer.isBuffer(c) ? c : Buffer.from(c), 0, emit);
  s.end(emit);
  return out;
}

test('lines end at \\n or \\r\\n, also across chunks; a last line without newline counts', () => {
  assert.deepEqual(split(['one\ntwo\r\nthree']), [['one', 0], ['two', 0], ['three', 0]]);
  assert.deepEqual(split(['o', 'ne\r', '\ntw', 'o\n']), [['one', 0], ['two', 0]]);
  assert.deepEqual(split(['\n\r\n\n']), [['', 0], ['', 0], ['', 0]], 'empty lines are lines');
  assert.deepEqual(split(['a\rb\n']), [['a\rb', 0]], 'a lone \\r is part of the line');
  assert.deepEqual(split([]), []);
  assert.deepEqual(split(['x\n']), [['x', 0]], 'no phantom line after the last newline');
});

test('a line keeps its first max bytes and counts the rest', () => {
  assert.deepEqual(split(['0123456789abc\nshort\n']), [['01234567', 5], ['short', 0]]);
  assert.deepEqual(split(['0123', '4567', '89', '\n']), [['01234567', 2]]);
  assert.deepEqual(split(['0123456789\r\n']), [['01234567', 2]], 'the \\r of \\r\\n is not counted as dropped');
  assert.deepEqual(split(['01234567\r\n']), [['01234567', 0]]);
  assert.deepEqual(split(['0123456789']), [['01234567', 2]], 'last line without newline, cut');
  // A character is never split: é is 2 bytes, € 3; the cut backs off to a character boundary.
  assert.deepEqual(split(['abcdefgé!\n']), [['abcdefg', 3]]);
  assert.deepEqual(split(['abcdef€\n']), [['abcdef', 3]]);
  assert.deepEqual(split([Buffer.from('abcdefg'), Buffer.from('€x\n')]), [['abcdefg', 4]]);
});

test('a huge line costs its cap: 50 MB in 64 KiB chunks', () => {
  const s = new LineSplitter(16 * 1024);
  const chunk = Buffer.alloc(64 * 1024, 'a');
  const out: Line[] = [];
  const t0 = performance.now();
  for (let sent = 0; sent < 50_000_000; sent += chunk.length) s.feed(chunk, 0, (t, d) => void out.push([t, d]));
  s.feed(Buffer.from('\n'), 0, (t, d) => void out.push([t, d]));
  const ms = performance.now() - t0;
  assert.equal(out.length, 1);
  assert.equal(out[0]![0].length, 16 * 1024);
  assert.equal(out[0]![0].length + out[0]![1], Math.ceil(50_000_000 / chunk.length) * chunk.length);
  assert.ok(ms < 1_000, `took ${ms.toFixed(0)} ms`);
});

test('feed stops at the deadline and resumes where it stopped', () => {
  const s = new LineSplitter();
  const chunk = Buffer.from('a\nb\nc\n');
  const out: string[] = [];
  const at = s.feed(chunk, 0, (t) => void out.push(t), -1); // deadline already passed: one line
  assert.equal(at, 2);
  assert.deepEqual(out, ['a']);
  assert.equal(s.feed(chunk, at, (t) => void out.push(t)), chunk.length);
  assert.deepEqual(out, ['a', 'b', 'c']);
});

test('readLines: every line of a burst arrives, and the event loop keeps turning between slices', async () => {
  const stream = new PassThrough();
  const got: string[] = [];
  let maxGap = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 1);
  const busy = (ms: number): void => {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      // a slow log destination
    }
  };
  const done = readLines(stream, (t) => {
    busy(0.05);
    got.push(t);
  });
  // 6,000 lines of 0.05 ms each: 300 ms of work, all of it queued at once.
  const text = Array.from({ length: 6_000 }, (_, i) => `line ${i}`).join('\n');
  stream.end(text); // the last one without a newline
  last = performance.now();
  await done;
  clearInterval(ticker);
  assert.equal(got.length, 6_000);
  assert.equal(got[0], 'line 0');
  assert.equal(got.at(-1), 'line 5999');
  assert.ok(maxGap < 50, `the event loop was blocked for ${maxGap.toFixed(0)} ms`);
});

test('readLines: a stream that fails still resolves with what it read', async () => {
  const stream = new PassThrough();
  const got: string[] = [];
  const done = readLines(stream, (t) => void got.push(t));
  stream.write('one\ntw');
  await new Promise((r) => setImmediate(r));
  stream.destroy(new Error('EPIPE'));
  await done;
  assert.deepEqual(got, ['one', 'tw']);
});

test('capText: bytes, not characters; never half a character', () => {
  assert.deepEqual(capText('short', 10), { head: 'short', droppedBytes: 0 });
  assert.deepEqual(capText('0123456789ab', 10), { head: '0123456789', droppedBytes: 2 });
  assert.deepEqual(capText('€€€€', 10), { head: '€€€', droppedBytes: 3 });
  assert.deepEqual(capText('123456789😀', 10), { head: '123456789', droppedBytes: 4 });
  assert.equal(truncationNote(1234567), '… [1,234,567 more bytes]');
});

test('logArgs: a message over 16 KiB is cut, noted and counted; fields stay', () => {
  const big = 'x'.repeat(100_000);
  const [fields, msg] = logArgs([{ job: 'j' }, big]) as [Record<string, unknown>, string];
  assert.equal(fields.job, 'j');
  assert.equal(fields.truncatedBytes, 100_000 - MAX_MESSAGE_BYTES);
  assert.equal(msg, 'x'.repeat(MAX_MESSAGE_BYTES) + truncationNote(100_000 - MAX_MESSAGE_BYTES));
  const [only, msg2] = logArgs([big]) as [Record<string, unknown>, string];
  assert.equal(only.truncatedBytes, 100_000 - MAX_MESSAGE_BYTES);
  assert.ok(msg2.endsWith('more bytes]'));
  // A caller that cut the message already: the counts add up, the note is added.
  const [f3, m3] = logArgs([{ stream: 'stdout', truncatedBytes: 500 }, 'head of a line']) as [Record<string, unknown>, string];
  assert.equal(f3.truncatedBytes, 500);
  assert.equal(m3, `head of a line${truncationNote(500)}`);
  // Short messages pass as they are, redacted.
  assert.deepEqual(logArgs([{ a: 1 }, 'to redis://:pw@h']), [{ a: 1 }, 'to redis://:***@h']);
  assert.deepEqual(logArgs(['plain']), ['plain']);
});

test('logArgs: the cut never shows part of a password', () => {
  const secret = 'Sup3rSecretPassw0rdThatIsLong';
  for (const before of [MAX_MESSAGE_BYTES - 30, MAX_MESSAGE_BYTES - 12, MAX_MESSAGE_BYTES - 3]) {
    const text = 'y'.repeat(before) + ` mysql://app:${secret}@db/iam ` + 'z'.repeat(1000);
    const [, msg] = logArgs([{}, text]) as [unknown, string];
    assert.ok(!msg.includes(secret.slice(0, 3)), `cut at ${before}: ${msg.slice(-60)}`);
  }
  const [, head] = logArgs([{ truncatedBytes: 10 }, 'to mysql://app:Sup3r']) as [unknown, string];
  assert.ok(!head.includes('Sup3r'), head);
});

test('logger: JSON lines carry at most 16 KiB of message, the note and truncatedBytes', async () => {
  const dest = new PassThrough();
  let text = '';
  dest.on('data', (d: Buffer) => (text += d.toString()));
  const log = await createLogger({ format: 'json', instance: 'i-1', destination: dest });
  log.child({ job: 'j' }).info({ stream: 'stdout' }, 'é'.repeat(1_000_000));
  log.info('fine');
  const [line, fine] = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const msg = String(line!.msg);
  const note = truncationNote(2_000_000 - MAX_MESSAGE_BYTES);
  assert.ok(msg.endsWith(note), msg.slice(-50));
  assert.equal(Buffer.byteLength(msg.slice(0, -note.length)), MAX_MESSAGE_BYTES);
  assert.equal(line!.truncatedBytes, 2_000_000 - MAX_MESSAGE_BYTES);
  assert.equal(line!.job, 'j');
  assert.equal(fine!.msg, 'fine');
  assert.equal(fine!.truncatedBytes, undefined);
});

test('log tail: each line keeps a bounded text, noting the rest; a huge partial line is bounded too', () => {
  const tail = new LogTail(5);
  tail.write(`${JSON.stringify({ level: 'info', msg: 'm'.repeat(10_000) })}\n`);
  const [one] = tail.lines(1);
  assert.ok(one!.text.startsWith('mmm'));
  assert.ok(one!.text.endsWith(truncationNote(10_000 - MAX_TAIL_TEXT_BYTES)), one!.text.slice(-40));
  // 5 MB written in pieces without a newline, then the newline: bounded, counted.
  for (let i = 0; i < 50; i++) tail.write('w'.repeat(100_000));
  tail.write('\n');
  const [two] = tail.lines(1);
  assert.ok(Buffer.byteLength(two!.text) < MAX_TAIL_TEXT_BYTES + 50);
  assert.ok(two!.text.endsWith(truncationNote(5_000_000 - MAX_TAIL_TEXT_BYTES)), two!.text.slice(-40));
  assert.equal(tail.total, 2);
  // Whitespace around line breaks becomes one space, as before.
  tail.write(`${JSON.stringify({ level: 'warn', msg: 'a  \n\n  b\n' })}\n`);
  assert.equal(tail.lines(1)[0]!.text, 'a b ');
});
