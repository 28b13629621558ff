/**
 * The spool on a real folder: append/read/ack in order, replay after a reopen, batches bounded
 * by bytes, segments rotated and removed once delivered, and what a crash leaves behind (a torn
 * last frame, a corrupt frame, an unreadable cursor) costs no acknowledged frame.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSpool, type Spool, type SpoolOptions } from './spool.ts';

const dirs: string[] = [];
const open: Spool[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'forewarn-spool-test-'));
  dirs.push(d);
  return d;
}

function spoolAt(dir: string, extra: Partial<SpoolOptions> = {}): Spool {
  const s = openSpool({ dir, fsync: false, ...extra });
  open.push(s);
  return s;
}

async function closeSpool(s: Spool): Promise<void> {
  await s.close();
  open.splice(open.indexOf(s), 1);
}

/** Reads and acks everything pending; returns the payload texts. */
async function drain(s: Spool, maxBytes = 1 << 20): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const b = await s.read(s.cursor(), maxBytes);
    if (!b) return out;
    out.push(...b.payloads.map((p) => p.toString('utf8')));
    await s.ack(b.end);
  }
}

const segments = (dir: string) =>
  fs
    .readdirSync(dir)
    .filter((f) => f.startsWith('seg-'))
    .sort();

describe('spool', () => {
  it('reads frames back in append order with their point counts, and nothing once acked', async () => {
    const s = spoolAt(tempDir());
    await Promise.all(['a 1', 'b 2', 'c 3'].map((t, i) => s.append(Buffer.from(t), i + 1)));
    const b = await s.read(s.cursor(), 1 << 20);
    expect(b?.payloads.map((p) => p.toString())).toEqual(['a 1', 'b 2', 'c 3']);
    expect(b?.points).toBe(6);
    expect(s.stats()).toMatchObject({ appendedFrames: 3, appendedPoints: 6 });
    expect(s.stats().pendingBytes).toBeGreaterThan(0);
    await s.ack(b!.end);
    expect(await s.read(s.cursor(), 1 << 20)).toBeUndefined();
    expect(s.stats().pendingBytes).toBe(0);
  });

  it('sends again after a reopen what was not acked, and only that', async () => {
    const dir = tempDir();
    let s = spoolAt(dir);
    for (const t of ['one', 'two', 'three']) await s.append(Buffer.from(t), 1);
    const first = await s.read(s.cursor(), 1);
    expect(first?.payloads.map(String)).toEqual(['one']);
    await s.ack(first!.end);
    await closeSpool(s);
    s = spoolAt(dir);
    expect(s.stats().pendingBytes).toBeGreaterThan(0);
    await s.append(Buffer.from('four'), 1);
    expect(await drain(s)).toEqual(['two', 'three', 'four']);
    await closeSpool(s);
    s = spoolAt(dir);
    expect(await drain(s)).toEqual([]);
  });

  it('cuts batches at about maxBytes, but always returns a frame bigger than that whole', async () => {
    const s = spoolAt(tempDir());
    const big = 'x'.repeat(5000);
    for (const t of ['a'.repeat(100), 'b'.repeat(100), big, 'c'.repeat(100)]) await s.append(Buffer.from(t), 1);
    const sizes: number[][] = [];
    for (;;) {
      const b = await s.read(s.cursor(), 150);
      if (!b) break;
      sizes.push(b.payloads.map((p) => p.length));
      await s.ack(b.end);
    }
    expect(sizes).toEqual([[100], [100], [5000], [100]]);
  });

  it('rotates segments at segmentBytes and removes each once it is delivered', async () => {
    const dir = tempDir();
    const s = spoolAt(dir, { segmentBytes: 64 });
    for (let i = 0; i < 6; i++) await s.append(Buffer.from(`frame-${i}-${'z'.repeat(40)}`), 1);
    expect(segments(dir).length).toBeGreaterThanOrEqual(4);
    const texts = await drain(s, 1 << 20);
    expect(texts.map((t) => t.slice(0, 7))).toEqual([0, 1, 2, 3, 4, 5].map((i) => `frame-${i}`));
    // only the active segment is left
    expect(segments(dir).length).toBe(1);
  });

  it.each([
    { cut: 1, what: 'the last byte' },
    { cut: 10, what: 'part of the payload' },
    { cut: 20, what: 'the payload and part of the header' },
  ])('a torn last frame ($what cut by a crash) ends its segment; the frames before it and later appends are read', async ({ cut }) => {
    const dir = tempDir();
    let s = spoolAt(dir);
    await s.append(Buffer.from('kept'), 1);
    await s.append(Buffer.from('torn-frame-payload'), 1);
    await closeSpool(s);
    const [seg] = segments(dir);
    const file = path.join(dir, seg!);
    fs.truncateSync(file, fs.statSync(file).size - cut);
    s = spoolAt(dir);
    await s.append(Buffer.from('after'), 1);
    expect(await drain(s)).toEqual(['kept', 'after']);
    expect(s.stats().tornTails).toBe(1);
  });

  it('a corrupt frame is reported and the rest of its segment skipped; the next segment is read', async () => {
    const dir = tempDir();
    const errors: string[] = [];
    let s = spoolAt(dir, { onError: (e) => errors.push(e.message) });
    await s.append(Buffer.from('good'), 1);
    await s.append(Buffer.from('flipped'), 1);
    await s.append(Buffer.from('lost-with-the-rest'), 1);
    await closeSpool(s);
    const file = path.join(dir, segments(dir)[0]!);
    const bytes = fs.readFileSync(file);
    const at = bytes.indexOf('flipped');
    bytes[at] = bytes[at]! ^ 0xff;
    fs.writeFileSync(file, bytes);
    s = spoolAt(dir, { onError: (e) => errors.push(e.message) });
    await s.append(Buffer.from('next-segment'), 1);
    expect(await drain(s)).toEqual(['good', 'next-segment']);
    expect(s.stats().corruptFrames).toBe(1);
    expect(errors.join('\n')).toMatch(/corrupt frame at byte \d+ of .*seg-000000000001\.log/);
  });

  it('an unreadable cursor file resends everything in the spool and says so', async () => {
    const dir = tempDir();
    let s = spoolAt(dir);
    await s.append(Buffer.from('a'), 1);
    await s.append(Buffer.from('b'), 1);
    const b = await s.read(s.cursor(), 1);
    await s.ack(b!.end);
    await closeSpool(s);
    fs.writeFileSync(path.join(dir, 'cursor'), '{not json');
    const errors: string[] = [];
    s = spoolAt(dir, { onError: (e) => errors.push(e.message) });
    expect(await drain(s)).toEqual(['a', 'b']);
    expect(errors).toEqual([expect.stringMatching(/unreadable cursor file/)]);
  });

  it('waitForAppend resolves at the next append; end() is where the appends queued so far end', async () => {
    const s = spoolAt(tempDir());
    let woke = false;
    const waiting = s.waitForAppend().then(() => (woke = true));
    expect(woke).toBe(false);
    const appended = s.append(Buffer.from('x'), 1);
    const end = await s.end();
    await appended;
    await waiting;
    expect(woke).toBe(true);
    const b = await s.read(s.cursor(), 1 << 20);
    expect(b?.end).toEqual(end);
  });

  it('refuses appends once closed, keeps a fully delivered folder free of segments, and numbers on after a reopen', async () => {
    const dir = tempDir();
    const s = spoolAt(dir);
    await s.append(Buffer.from('x'), 1);
    await drain(s);
    await closeSpool(s);
    await expect(s.append(Buffer.from('y'), 1)).rejects.toThrow(/closed/);
    expect(segments(dir)).toEqual([]);
    // the cursor keeps the numbering: what is appended after a reopen is not mistaken for delivered
    const again = spoolAt(dir);
    await again.append(Buffer.from('z'), 1);
    expect(await drain(again)).toEqual(['z']);
  });

  it('with fsync on, an acknowledged append is in the file', async () => {
    const dir = tempDir();
    const s = spoolAt(dir, { fsync: true });
    await s.append(Buffer.from('durable-payload'), 1);
    expect(fs.readFileSync(path.join(dir, segments(dir)[0]!)).includes('durable-payload')).toBe(true);
  });
});
