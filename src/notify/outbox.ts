/**
 * The outbox worker: takes due advisories from the state store, hands each to the notifier and
 * records the outcome. Retryable failures are retried on a deterministic exponential schedule
 * (`baseMs * 2^attempt`, capped at `maxMs`) until `maxAttempts`; permanent failures are given up
 * at once (status `failed`).
 *
 * Delivery guarantee: an advisory is marked sent in the store right after the transport accepted
 * it, so nothing is lost and nothing already marked is sent again, across restarts too. What
 * remains is an at-least-once window: a crash (or a failing store write) between the transport's
 * acceptance and the mark leaves the advisory pending, and it is sent again on the next drain.
 * The second copy carries the same Message-ID (`<id@forewarn>`), so receivers and mail clients
 * that de-duplicate by Message-ID drop it.
 *
 * One worker per state store: drains of one worker never overlap (a drain requested while one is
 * running runs right after it), but two processes draining the same store could both send an
 * advisory that is due for both.
 */
import type { Clock } from '../domain/clock.ts';
import type { Advisory } from '../domain/types.ts';
import type { StateStore } from '../store/state-store.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { Notifier, OutgoingEmail, SendResult } from './notifier.ts';

/** The retry schedule of failed deliveries. */
export interface OutboxBackoff {
  /** delay before the first retry */
  baseMs: number;
  /** the longest delay between two attempts */
  maxMs: number;
  /** attempts in all, the first one included; after the last failed one the advisory is given up */
  maxAttempts: number;
}

/** Defaults: retries after 30 s, 1 min, 2 min, ... up to 1 h between attempts; 10 attempts (about 5 h). */
export const DEFAULT_OUTBOX_BACKOFF: Readonly<OutboxBackoff> = Object.freeze({ baseMs: 30_000, maxMs: 3_600_000, maxAttempts: 10 });

/** The part of the state store the outbox uses. */
export type OutboxStore = Pick<StateStore, 'dueAdvisories' | 'markAdvisorySent' | 'markAdvisoryFailed' | 'outboxDepth'>;

/** Options of {@link createOutbox}. */
export interface OutboxOptions {
  store: OutboxStore;
  notifier: Notifier;
  /** wall clock: due times, sent times and retry times */
  clock: Clock;
  metrics?: Metrics;
  /** From address of every email */
  from: string;
  /** retry schedule; missing fields take {@link DEFAULT_OUTBOX_BACKOFF} */
  backoff?: Partial<OutboxBackoff>;
  /** advisories read from the store at a time; default 50 */
  batchSize?: number;
  /** called after an advisory was accepted by the transport and marked sent */
  onSent?: (advisory: Advisory, handedOffAtWallMs: number) => void;
  /** errors of background drains (started by `start` or `kick`) and of `onSent`; default: console.error */
  onError?: (error: Error) => void;
}

/** What one drain did. */
export interface DrainResult {
  /** accepted by the transport and marked sent */
  sent: number;
  /** given up: permanent failure or last attempt */
  failed: number;
  /** failed and scheduled for another attempt */
  retried: number;
}

/** The outbox worker. */
export interface Outbox {
  /**
   * Sends every advisory due now, once each. Called while a drain is running, it waits for it and
   * then runs one more drain (shared by every caller that asked meanwhile), so nothing is sent
   * twice and advisories enqueued meanwhile are not missed. Rejects only when the store fails.
   */
  drainOnce(): Promise<DrainResult>;
  /** starts the background loop: a drain now, then one `intervalMs` after each drain ends */
  start(intervalMs: number): void;
  /**
   * Stops the loop: no new drain starts, the running one finishes the email in hand and returns.
   * Resolves once it has. The notifier is not closed (its owner closes it).
   */
  stop(): Promise<void>;
  /** asks the running loop for a drain as soon as possible (call after enqueueing); no-op unless started */
  kick(): void;
}

/** The delay before the next attempt after attempt number `attempt` (0-based) failed. */
export function retryDelayMs(attempt: number, backoff: OutboxBackoff): number {
  return Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attempt));
}

/** The email the outbox sends for an advisory. */
export function advisoryEmail(advisory: Advisory, from: string): OutgoingEmail {
  return {
    id: advisory.id,
    from,
    to: [...advisory.to],
    subject: advisory.subject,
    text: advisory.text,
    html: advisory.html,
    headers: {
      'X-Forewarn-Kind': advisory.kind,
      'X-Forewarn-Severity': advisory.severity,
      'X-Forewarn-Account': advisory.account,
      'X-Forewarn-Signal': advisory.signalId,
    },
  };
}

/** Creates an outbox worker. Throws when the backoff, batch size or from address is unusable. */
export function createOutbox(options: OutboxOptions): Outbox {
  const { store, notifier, clock, metrics } = options;
  const backoff: OutboxBackoff = { ...DEFAULT_OUTBOX_BACKOFF, ...options.backoff };
  const batchSize = options.batchSize ?? 50;
  validate(backoff, batchSize, options.from);
  const report = (err: unknown): void => {
    const error = err instanceof Error ? err : new Error(String(err));
    if (options.onError) options.onError(error);
    else console.error(`outbox: ${error.message}`);
  };

  let current: Promise<DrainResult> | undefined;
  let trailing: Promise<DrainResult> | undefined;
  let running = false;
  let stopping = false;
  let intervalMs = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let kickHandle: ReturnType<typeof setImmediate> | undefined;

  async function deliver(advisory: Advisory, result: DrainResult): Promise<void> {
    let outcome: SendResult;
    try {
      outcome = await notifier.send(advisoryEmail(advisory, options.from));
    } catch (err) {
      // a notifier must not throw; if one does, treat it like a connection failure
      outcome = {
        ok: false,
        retryable: true,
        error: `notifier ${notifier.name} threw: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
    const nowMs = clock.nowMs();
    if (outcome.ok) {
      // the at-least-once window is between the transport's acceptance and this line
      store.markAdvisorySent(advisory.id, nowMs);
      result.sent++;
      metrics?.advisoriesSent.inc({ kind: advisory.kind });
      try {
        options.onSent?.(advisory, nowMs);
      } catch (err) {
        report(new Error(`outbox: onSent failed for advisory ${advisory.id}`, { cause: err }));
      }
      return;
    }
    const retry = outcome.retryable && advisory.attempts + 1 < backoff.maxAttempts;
    store.markAdvisoryFailed(advisory.id, outcome.error, retry ? nowMs + retryDelayMs(advisory.attempts, backoff) : undefined);
    metrics?.advisorySendFailures.inc({ kind: advisory.kind, retryable: String(retry) });
    if (retry) result.retried++;
    else result.failed++;
  }

  async function drain(): Promise<DrainResult> {
    const result: DrainResult = { sent: 0, failed: 0, retried: 0 };
    // due as of the start: a retry scheduled during this drain waits for a later one
    const asOfMs = clock.nowMs();
    const seen = new Set<string>();
    try {
      while (!stopping) {
        const batch = store.dueAdvisories(asOfMs, batchSize).filter((a) => !seen.has(a.id));
        if (batch.length === 0) break;
        for (const advisory of batch) {
          if (stopping) break;
          seen.add(advisory.id);
          await deliver(advisory, result);
        }
      }
    } finally {
      try {
        metrics?.outboxDepth.set(store.outboxDepth());
      } catch {
        // the drain's own error, if any, is the one worth reporting
      }
    }
    return result;
  }

  function drainOnce(): Promise<DrainResult> {
    if (!current) {
      current = drain().finally(() => {
        current = undefined;
      });
      return current;
    }
    trailing ??= current
      .catch(() => undefined)
      .then(() => {
        trailing = undefined;
        return drainOnce();
      });
    return trailing;
  }

  function schedule(delayMs: number): void {
    if (!running) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      drainOnce()
        .catch(report)
        .finally(() => schedule(intervalMs));
    }, delayMs);
  }

  return {
    drainOnce,
    start(ms: number): void {
      if (!Number.isFinite(ms) || ms <= 0) throw new Error(`outbox: interval must be a positive number of ms, got ${ms}`);
      if (running) throw new Error('outbox: already started');
      running = true;
      intervalMs = ms;
      schedule(0);
    },
    async stop(): Promise<void> {
      running = false;
      clearTimeout(timer);
      timer = undefined;
      if (kickHandle) clearImmediate(kickHandle);
      kickHandle = undefined;
      stopping = true;
      try {
        while (current ?? trailing) await (trailing ?? current)?.catch(() => undefined);
      } finally {
        stopping = false;
      }
    },
    kick(): void {
      if (!running || kickHandle) return;
      // on the next turn of the event loop: after the caller's transaction, and one drain for many kicks
      kickHandle = setImmediate(() => {
        kickHandle = undefined;
        drainOnce().catch(report);
      });
    },
  };
}

function validate(backoff: OutboxBackoff, batchSize: number, from: string): void {
  if (!(Number.isFinite(backoff.baseMs) && backoff.baseMs > 0))
    throw new Error(`outbox: backoff.baseMs must be > 0, got ${backoff.baseMs}`);
  if (!(backoff.maxMs >= backoff.baseMs))
    throw new Error(`outbox: backoff.maxMs (${backoff.maxMs}) must be >= backoff.baseMs (${backoff.baseMs})`);
  if (!(Number.isInteger(backoff.maxAttempts) && backoff.maxAttempts >= 1))
    throw new Error(`outbox: backoff.maxAttempts must be an integer >= 1, got ${backoff.maxAttempts}`);
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new Error(`outbox: batchSize must be an integer >= 1, got ${batchSize}`);
  if (from.trim() === '') throw new Error('outbox: from address is empty');
}
