/**
 * The books each side keeps so that a served session survives a dropped connection: the
 * client's ResendLog (src/runtime/resume.ts) and the runtime's Resume (resume.py, run here in
 * the venv's Python). Duplicates, gaps and stale news are hard to produce on demand through a
 * real connection (test/served_resume.test.ts does the end to end); here each case is exact.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ResendLog } from '../src/runtime/resume.js';
import { decode } from '../src/transport/codec.js';
import { python } from './fixtures/python_twin.js';
import { root } from './fixtures/run_child.js';

const buf = (s: string) => Buffer.from(s);
const text = (bs: Buffer[]) => bs.map((b) => b.toString());

describe("the client's books (ResendLog)", () => {
  it('numbers batches from 1; each header says the batch and the reply messages seen so far', () => {
    const log = new ResendLog();
    expect(decode(log.record(buf('a')))).toEqual([1, 0]);
    expect(log.accept(1, buf('r1'))).toHaveLength(1);
    expect(decode(log.record(buf('b')))).toEqual([2, 1]);
    expect(decode(log.syncHeader())).toEqual([0, 1, 2]);
    expect(decode(log.syncHeader(4))).toEqual([0, 1, 2, 4]); // and send replies 2-4 again
    expect(decode(log.syncHeader(1))).toEqual([0, 1, 2]); // (nothing to ask for up to what is seen)
    expect(decode(log.header(1))).toEqual([1, 1]); // a batch sent again carries what is seen now
    expect([log.sent, log.unacked, log.unackedBytes]).toEqual([2, 2, 2]);
  });

  it('numbers stream messages (chunks, credits) with the batches: a resend carries its stream header again', () => {
    const log = new ResendLog();
    expect(decode(log.record(buf('a')))).toEqual([1, 0]);
    expect(decode(log.recordStream(buf('chunk'), [-1, 7, 0, 5]))).toEqual([2, 0, -1, 7, 0, 5]);
    expect(log.accept(1, buf('r1'))).toHaveLength(1);
    expect(decode(log.record(buf('b')))).toEqual([3, 1]);
    expect([log.unacked, log.unackedBytes]).toEqual([3, 1 + 5 + 1]);
    // a chunk lost in a drop is sent again as it was, with what is seen now
    expect(log.missing(1, 3).map(([n, p]) => [n, p.toString(), decode(log.header(n))])).toEqual([
      [2, 'chunk', [2, 1, -1, 7, 0, 5]],
      [3, 'b', [3, 1]],
    ]);
    log.ack(3);
    expect([log.unacked, log.unackedBytes]).toEqual([0, 0]);
    expect(decode(log.header(2))).toEqual([2, 1]); // (its stream header let go with it)
  });

  it('hands on numbered messages of any kind in order (a stream message held behind a gap)', () => {
    const log = new ResendLog();
    const chunk = { header: buf('h'), body: buf('c2') };
    expect(log.accept<unknown>(2, chunk)).toEqual([]);
    expect(log.accept<unknown>(1, buf('r1'))).toEqual([buf('r1'), chunk]);
  });

  it('lets go of acknowledged batches, ignores older news, and gives back exactly the missing ones', () => {
    const log = new ResendLog();
    for (const s of ['a', 'b', 'c', 'd', 'e']) log.record(buf(s));
    log.ack(2);
    expect([log.received, log.unacked, log.unackedBytes]).toEqual([2, 3, 3]);
    log.ack(1); // an older acknowledgement (a ping answer that crossed a reply)
    expect(log.received).toBe(2);
    expect(log.missing(2, 4).map(([n, p]) => [n, p.toString()])).toEqual([
      [3, 'c'],
      [4, 'd'],
    ]);
    // a notice older than an acknowledgement that came another way: only what is still missing
    log.ack(4);
    expect(log.missing(2, 5).map(([n]) => n)).toEqual([5]);
    expect(log.missing(4, 99).map(([n]) => n)).toEqual([5]); // never beyond what was sent
    expect(log.missing(5, 5)).toEqual([]); // (a notice acknowledges too)
    expect(log.unacked).toBe(0);
    log.ack(99);
    expect([log.received, log.unacked, log.unackedBytes]).toEqual([5, 0, 0]);
  });

  it('keeps its batches right across many acknowledgements (the kept array is compacted)', () => {
    const log = new ResendLog();
    for (let i = 1; i <= 5000; i++) {
      log.record(buf(String(i)));
      if (i % 7 === 0) log.ack(i - 3);
    }
    expect(log.received).toBe(4995); // the last acknowledgement: 4998 - 3
    expect(log.unacked).toBe(5);
    expect(log.missing(4995, 5000).map(([n, p]) => [n, p.toString()])).toEqual([
      [4996, '4996'],
      [4997, '4997'],
      [4998, '4998'],
      [4999, '4999'],
      [5000, '5000'],
    ]);
  });

  it('hands reply messages on once each and in order: duplicates dropped, one after a gap held', () => {
    const log = new ResendLog();
    expect(text(log.accept(1, buf('r1')))).toEqual(['r1']);
    expect(text(log.accept(1, buf('r1 again')))).toEqual([]);
    expect(text(log.accept(3, buf('r3')))).toEqual([]);
    expect(text(log.accept(4, buf('r4')))).toEqual([]);
    expect(text(log.accept(3, buf('r3 again')))).toEqual([]); // held already
    expect(text(log.accept(2, buf('r2')))).toEqual(['r2', 'r3', 'r4']);
    expect(log.seen).toBe(4);
    expect(text(log.accept(4, buf('r4 again')))).toEqual([]);
  });

  it('says which reply messages were lost, given how many were sent before something that came since', () => {
    const log = new ResendLog();
    log.accept(1, buf('r1'));
    log.accept(3, buf('r3'));
    log.accept(4, buf('r4'));
    expect(log.lostUpTo(4)).toBe(2); // 2 is missing; 3 and 4 are here
    expect(log.lostUpTo(9)).toBe(2); // the first run of missing ones
    expect(log.lostUpTo(1)).toBe(0);
    log.accept(2, buf('r2'));
    expect(log.lostUpTo(4)).toBe(0);
    expect(log.lostUpTo(6)).toBe(6);
  });
});

describe("the runtime's books (Resume, resume.py)", () => {
  it('runs each batch once and in order, tells once what a gap lost, answers a sync, sends lost replies again when asked', () => {
    const out = python<Record<string, unknown>>(`
      import sys
      sys.path.insert(0, ${JSON.stringify(join(root, 'python'))})
      from torchbridge_runtime.resume import Resume
      from torchbridge_runtime.codec import unpack
      sent, logged = [], []
      r = Resume(lambda p, h: sent.append([bytes(p).decode(), unpack(h)]), logged.append)
      def take():
          out = list(sent); sent.clear(); return out
      res = {}
      res['in order'] = [r.accept([1, 0], b'b1'), r.accept([2, 0], b'b2'), r.received]
      res['duplicate'] = [r.accept([2, 0], b'b2'), r.accept([1, 0], b'b1'), r.received]
      res['after a gap'] = [r.accept([5, 0], b'b5'), take(), r.accept([4, 0], b'b4'), r.accept([5, 0], b'b5'), take(), r.received]
      res['gap filled'] = [r.accept([3, 0], b'b3'), r.received, take()]
      # replies: numbered from 1, each header says what has arrived
      res['stamps'] = [unpack(r.stamp(b'r1')), unpack(r.stamp(b'r2')), unpack(r.stamp(b'r3')), r.unseen()]
      # a sync from a client that sent 7 and has seen reply 1: a notice (batches 6-7 missing, 3 replies sent before it)
      res['sync'] = [r.accept([0, 1, 7], b''), take(), r.unseen()]
      # the client lost replies 2-3: asked for, they come again, then the notice
      res['sync, replies again'] = [r.accept([0, 1, 7, 3], b''), take()]
      # acknowledged by a control ping: let go at the next trim
      r.seen_control = 3
      r.trim()
      res['trimmed'] = r.unseen()
      res['sync, nothing missing'] = [r.accept([0, 3, 5], b''), take()]
      # a stream message (a download chunk) is a numbered reply message too: kept, sent again as it was
      s2 = Resume(lambda p, h: sent.append([bytes(p).decode(), unpack(h)]), logged.append)
      res['stream stamps'] = [unpack(s2.stamp(b'r1')), unpack(s2.stamp_stream([-1, 9, 0, 2], b'c1')), s2.unseen()]
      res['stream again'] = [s2.accept([0, 1, 0, 2], b''), take()]
      res['stream in order'] = [s2.accept([1, 2], b'b1'), s2.accept([3, 2], ([-2, 4, 10], b'')), s2.accept([2, 2], ([-1, 4, 0, 20], b'c'))]
      res['logged'] = logged
      print(json.dumps(res, default=lambda b: bytes(b).decode()))
    `);
    expect(out['in order']).toEqual([['b1'], ['b2'], 2]);
    expect(out['duplicate']).toEqual([[], [], 2]);
    // 5 arrives after a gap: held, and the client told at once that 3-4 did not arrive (once)
    expect(out['after a gap']).toEqual([[], [['', [0, 2, 4, 0]]], [], [], [], 2]);
    expect(out['gap filled']).toEqual([['b3', 'b4', 'b5'], 5, []]);
    expect(out['stamps']).toEqual([[1, 5], [2, 5], [3, 5], 3]);
    expect(out['sync']).toEqual([[], [['', [0, 5, 7, 3]]], 2]);
    expect(out['sync, replies again']).toEqual([
      [],
      [
        ['r2', [2, 5]],
        ['r3', [3, 5]],
        ['', [0, 5, 7, 3]],
      ],
    ]);
    expect(out['trimmed']).toBe(0);
    expect(out['sync, nothing missing']).toEqual([[], [['', [0, 5, 5, 3]]]]);
    expect(out['stream stamps']).toEqual([[1, 0], [2, 0, -1, 9, 0, 2], 2]);
    expect(out['stream again']).toEqual([
      [],
      [
        ['c1', [2, 0, -1, 9, 0, 2]],
        ['', [0, 0, 0, 2]],
      ],
    ]);
    // batch 3 (a credit) waits for batch 2 (a chunk); both come out in order as (stream header, body)
    expect(out['stream in order']).toEqual([['b1'], [], [[[-1, 4, 0, 20], 'c'], [[-2, 4, 10], '']]]);
    expect(out['logged']).toEqual([
      'batches 3-4 did not arrive (a dropped connection); asked the client to send them again',
      'batches 6-7 did not arrive (a dropped connection); asked the client to send them again',
      'sending reply messages 2-3 again (lost in a dropped connection)',
      'batches 6-7 did not arrive (a dropped connection); asked the client to send them again',
      'sending reply messages 2-2 again (lost in a dropped connection)',
      'batches 2-2 did not arrive (a dropped connection); asked the client to send them again',
    ]);
  });
});
