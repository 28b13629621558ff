/**
 * An in-memory notifier for tests: records every email it accepts and can be told to fail the
 * next sends, retryably or not.
 */
import type { Notifier, OutgoingEmail, SendResult } from './notifier.ts';

/** Options of {@link createMemoryNotifier}. */
export interface MemoryNotifierOptions {
  /** notifier name; default `memory` */
  name?: string;
  /**
   * Awaited at the start of every send (after `attempts` is counted), before the email is
   * accepted; lets a test hold a send in flight or simulate latency.
   */
  beforeSend?: (email: OutgoingEmail) => Promise<void> | void;
}

/** How the next sends fail; see {@link MemoryNotifier.failNext}. */
export interface MemoryFailure {
  /** default true */
  retryable?: boolean;
  /** default `memory notifier: simulated failure` */
  error?: string;
}

/** A notifier that keeps what it sends. */
export interface MemoryNotifier extends Notifier {
  /** accepted emails, oldest first (copies, so later changes by the caller do not show) */
  readonly sent: readonly OutgoingEmail[];
  /** number of send calls, failed ones included */
  readonly attempts: number;
  /** makes the next `count` sends fail as described (added to any failures still queued) */
  failNext(count: number, failure?: MemoryFailure): void;
  /** forgets sent emails, attempts and queued failures */
  reset(): void;
}

/** Creates an in-memory notifier. Like the real ones it refuses an email without recipients. */
export function createMemoryNotifier(options: MemoryNotifierOptions = {}): MemoryNotifier {
  const sent: OutgoingEmail[] = [];
  const failures: Required<MemoryFailure>[] = [];
  let attempts = 0;
  let closed = false;

  return {
    name: options.name ?? 'memory',
    get sent() {
      return sent;
    },
    get attempts() {
      return attempts;
    },
    failNext(count: number, failure: MemoryFailure = {}): void {
      for (let i = 0; i < count; i++) {
        failures.push({ retryable: failure.retryable ?? true, error: failure.error ?? 'memory notifier: simulated failure' });
      }
    },
    reset(): void {
      sent.length = 0;
      failures.length = 0;
      attempts = 0;
    },
    async send(email: OutgoingEmail): Promise<SendResult> {
      if (closed) return { ok: false, retryable: true, error: 'memory notifier is closed' };
      attempts++;
      await options.beforeSend?.(email);
      const failure = failures.shift();
      if (failure) return { ok: false, retryable: failure.retryable, error: failure.error };
      if (email.to.length === 0) return { ok: false, retryable: false, error: 'memory notifier: no recipients' };
      sent.push(structuredClone(email));
      return { ok: true };
    },
    async close(): Promise<void> {
      closed = true;
    },
  };
}
