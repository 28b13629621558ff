/**
 * The .eml file notifier (the default channel): writes each email as an RFC 5322 message, built
 * by nodemailer's stream transport (multipart/alternative with text and html, CRLF line
 * breaks), to `<dir>/<time>_<id>.eml`. Writes are atomic (temp file, fsync, rename) and
 * idempotent per email id: a second send of the same id, in this process or after a restart,
 * finds the file and writes nothing.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { Clock } from '../../domain/clock.ts';
import { systemClock } from '../../domain/clock.ts';
import type { Notifier, OutgoingEmail, SendResult } from '../notifier.ts';
import { toMailOptions } from './smtp.ts';

/** Options of {@link createEmlFileNotifier}. */
export interface EmlFileNotifierOptions {
  /** folder the .eml files go to; created when missing */
  dir: string;
  /** sender used when an email has no `from` of its own */
  from: string;
  /** source of the Date header and the file-name time; default the system clock */
  clock?: Clock;
}

/**
 * The file name of an email: `<time>_<id>.eml`, time in ISO 8601 basic format
 * (`20240102T030405.678Z`: sorts by time and has no colons, so it is valid on every file
 * system), id percent-encoded.
 */
export function emlFileName(id: string, wallMs: number): string {
  return `${new Date(wallMs).toISOString().replace(/[-:]/g, '')}_${encodeId(id)}.eml`;
}

/** Creates a notifier that writes .eml files to `options.dir`. `send` never throws. */
export function createEmlFileNotifier(options: EmlFileNotifierOptions): Notifier {
  if (options.from.trim() === '') throw new Error('eml notifier: from address is empty');
  const clock = options.clock ?? systemClock;
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  /** encoded ids with a file in `dir`; read from the folder on first use */
  let written: Promise<Set<string>> | undefined;
  const inFlight = new Map<string, Promise<SendResult>>();
  let closed = false;

  async function writtenIds(): Promise<Set<string>> {
    written ??= scanDir(options.dir).catch((err: unknown) => {
      written = undefined; // try again on the next send
      throw err;
    });
    return written;
  }

  async function write(email: OutgoingEmail): Promise<SendResult> {
    if (email.to.length === 0) return { ok: false, retryable: false, error: `eml notifier: email ${email.id} has no recipients` };
    const key = encodeId(email.id);
    let ids: Set<string>;
    try {
      ids = await writtenIds();
    } catch (err) {
      return { ok: false, retryable: true, error: `eml notifier: cannot read folder ${options.dir}: ${describe(err)}` };
    }
    if (ids.has(key)) return { ok: true };

    const nowMs = clock.nowMs();
    let message: Buffer;
    try {
      const info = await composer.sendMail({ ...toMailOptions(email, options.from), date: new Date(nowMs) });
      if (!Buffer.isBuffer(info.message)) throw new Error('stream transport returned no buffer');
      message = info.message;
    } catch (err) {
      return { ok: false, retryable: false, error: `eml notifier: cannot build message ${email.id}: ${describe(err)}` };
    }

    const target = join(options.dir, emlFileName(email.id, nowMs));
    try {
      await writeAtomically(options.dir, target, message);
    } catch (err) {
      return { ok: false, retryable: true, error: `eml notifier: cannot write ${target}: ${describe(err)}` };
    }
    ids.add(key);
    return { ok: true };
  }

  return {
    name: 'eml-files',
    send(email: OutgoingEmail): Promise<SendResult> {
      if (closed) return Promise.resolve({ ok: false, retryable: true, error: 'eml notifier is closed' });
      // two concurrent sends of one id share one write, so the id still gets one file
      const running = inFlight.get(email.id);
      if (running) return running;
      const p = write(email).finally(() => inFlight.delete(email.id));
      inFlight.set(email.id, p);
      return p;
    },
    async close(): Promise<void> {
      closed = true;
      await Promise.allSettled([...inFlight.values()]);
      composer.close();
    },
  };
}

/** Percent-encodes an id for a file name (also `*`, which Windows forbids). */
function encodeId(id: string): string {
  return encodeURIComponent(id).replace(/\*/g, '%2A');
}

/** The encoded ids of the .eml files in `dir` (none when it does not exist yet). */
async function scanDir(dir: string): Promise<Set<string>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
    throw err;
  }
  const ids = new Set<string>();
  for (const name of names) {
    // the time part has no underscore, so the id is everything after the first one
    const m = /^[^_]+_(.+)\.eml$/.exec(name);
    if (m?.[1] !== undefined) ids.add(m[1]);
  }
  return ids;
}

/** Writes `data` to a hidden temp file in `dir`, fsyncs it and renames it to `target`. */
async function writeAtomically(dir: string, target: string, data: Buffer): Promise<void> {
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${randomUUID()}.tmp`);
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await syncDir(dir);
}

/** Makes the rename durable where the platform allows fsync on a folder (not on Windows). */
async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort: the file itself is already synced
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
