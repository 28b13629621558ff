import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../domain/clock.ts';
import { email, notifierContract, parseRawMessage } from '../contract.ts';
import { createEmlFileNotifier, emlFileName } from './eml-files.ts';

const T0 = Date.UTC(2024, 0, 2, 3, 4, 5, 678);

async function emlFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => n.endsWith('.eml')).sort();
  } catch {
    return [];
  }
}

notifierContract('eml-files', async () => {
  const root = await mkdtemp(join(tmpdir(), 'forewarn-eml-'));
  const dir = join(root, 'outbox'); // not created yet: the notifier creates it
  const notifier = createEmlFileNotifier({ dir, from: 'forewarn@example.com' });
  return {
    notifier,
    mime: true,
    delivered: async () => Promise.all((await emlFiles(dir)).map(async (n) => parseRawMessage(await readFile(join(dir, n), 'utf8')))),
    close: async () => {
      await notifier.close();
      await rm(root, { recursive: true, force: true });
    },
  };
});

describe('eml file notifier', () => {
  let root: string;
  let dir: string;
  let clock: ManualClock;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'forewarn-eml-'));
    dir = join(root, 'mail');
    clock = new ManualClock(T0);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('writes <iso-time>_<id>.eml, a CRLF MIME message with text and html alternatives', async () => {
    const n = createEmlFileNotifier({ dir, from: 'forewarn@example.com', clock });
    expect(await n.send(email({ id: 'adv-7' }))).toEqual({ ok: true });
    expect(await readdir(dir)).toEqual(['20240102T030405.678Z_adv-7.eml']);
    const raw = await readFile(join(dir, '20240102T030405.678Z_adv-7.eml'), 'utf8');
    expect(raw.replace(/\r\n/g, '')).not.toContain('\n'); // every line break is CRLF
    expect(raw).toMatch(/^Content-Type: multipart\/alternative;/m);
    expect(raw).toMatch(/^Content-Type: text\/plain; charset=utf-8/m);
    expect(raw).toMatch(/^Content-Type: text\/html; charset=utf-8/m);
    expect(raw).toContain('Date: Tue, 02 Jan 2024 03:04:05 +0000');
    expect(parseRawMessage(raw).messageId).toBe('<adv-7@forewarn>');
    await n.close();
  });

  it('same id twice => one file', async () => {
    const n = createEmlFileNotifier({ dir, from: 'forewarn@example.com', clock });
    expect(await n.send(email({ id: 'adv-1' }))).toEqual({ ok: true });
    clock.advance(60_000);
    expect(await n.send(email({ id: 'adv-1', subject: 'second' }))).toEqual({ ok: true });
    expect(await emlFiles(dir)).toEqual([emlFileName('adv-1', T0)]);
  });

  it('same id twice concurrently => one file', async () => {
    let ms = T0;
    const ticking = { nowMs: () => ms++ }; // each send sees a new time, so a second file would get another name
    const n = createEmlFileNotifier({ dir, from: 'forewarn@example.com', clock: ticking });
    const results = await Promise.all([n.send(email({ id: 'adv-1' })), n.send(email({ id: 'adv-1' })), n.send(email({ id: 'adv-2' }))]);
    expect(results).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    expect((await emlFiles(dir)).map((f) => f.slice(f.indexOf('_')))).toEqual(['_adv-1.eml', '_adv-2.eml']);
  });

  it('restart => a new notifier on the same folder does not write an id again', async () => {
    const first = createEmlFileNotifier({ dir, from: 'forewarn@example.com', clock });
    await first.send(email({ id: 'adv-1' }));
    await first.close();
    clock.advance(3_600_000);
    const second = createEmlFileNotifier({ dir, from: 'forewarn@example.com', clock });
    expect(await second.send(email({ id: 'adv-1' }))).toEqual({ ok: true });
    expect(await second.send(email({ id: 'adv-2' }))).toEqual({ ok: true });
    expect(await emlFiles(dir)).toEqual([emlFileName('adv-1', T0), emlFileName('adv-2', T0 + 3_600_000)]);
  });

  it('leaves no temp file behind; only .eml files in the folder', async () => {
    const n = createEmlFileNotifier({ dir, from: 'forewarn@example.com', clock });
    await Promise.all([1, 2, 3].map((i) => n.send(email({ id: `adv-${i}` }))));
    expect((await readdir(dir)).every((name) => name.endsWith('.eml'))).toBe(true);
  });

  it.each([
    ['a/b', '20240102T030405.678Z_a%2Fb.eml'],
    ['x*y z', '20240102T030405.678Z_x%2Ay%20z.eml'],
    ['..', '20240102T030405.678Z_...eml'],
  ])('id %j => file %s, still idempotent', async (id, file) => {
    const n = createEmlFileNotifier({ dir, from: 'forewarn@example.com', clock });
    await n.send(email({ id }));
    await n.send(email({ id }));
    expect(await emlFiles(dir)).toEqual([file]);
  });

  it('folder path is a file => retryable failure, then ok once the path is free', async () => {
    await writeFile(dir, 'in the way');
    const n = createEmlFileNotifier({ dir, from: 'forewarn@example.com', clock });
    const result = await n.send(email());
    expect(result).toMatchObject({ ok: false, retryable: true });
    expect(!result.ok && result.error).toContain(dir);
    await rm(dir);
    expect(await n.send(email())).toEqual({ ok: true });
    expect(await emlFiles(dir)).toHaveLength(1);
  });

  it('empty from => creation fails', () => {
    expect(() => createEmlFileNotifier({ dir, from: ' ' })).toThrow(/from/);
  });
});
