/**
 * Ticket SLO clocks, pure: which open tickets passed a due time (ack, first response, resolve)
 * since the last sweep, and which escalation steps of their tier are now due.
 */
import type { TierSpec } from '../config/types.ts';
import type { Advisory, Ticket } from '../domain/types.ts';
import { preformattedHtml } from '../notify/render.ts';
import { stableId } from './policy.ts';

export type SloClock = 'ack' | 'first_response' | 'resolve';

export interface SloBreach {
  ticket: Ticket;
  clock: SloClock;
  dueWallMs: number;
}

export interface EscalationDue {
  ticket: Ticket;
  /** 1-based step reached */
  level: number;
  notify: string;
}

export interface SweepResult {
  breaches: SloBreach[];
  escalations: EscalationDue[];
}

/**
 * Compares tickets against their SLOs at `nowWallMs`. A breach is reported once: when its due
 * time lies in (lastSweepWallMs, nowWallMs]. Escalation steps are due while the ticket is still
 * unacknowledged `afterMs` past its ack due time; `escalationLevel` says which were done.
 */
export function sweepSlos(
  tickets: readonly Ticket[],
  tiers: ReadonlyMap<string, TierSpec>,
  lastSweepWallMs: number,
  nowWallMs: number,
): SweepResult {
  const out: SweepResult = { breaches: [], escalations: [] };
  const crossed = (due: number) => due > lastSweepWallMs && due <= nowWallMs;
  for (const t of tickets) {
    if (t.state === 'resolved') continue;
    if (t.state === 'open' && crossed(t.ackDueWallMs)) out.breaches.push({ ticket: t, clock: 'ack', dueWallMs: t.ackDueWallMs });
    if (t.state === 'open' && crossed(t.firstResponseDueWallMs)) {
      out.breaches.push({ ticket: t, clock: 'first_response', dueWallMs: t.firstResponseDueWallMs });
    }
    if (crossed(t.resolveDueWallMs)) out.breaches.push({ ticket: t, clock: 'resolve', dueWallMs: t.resolveDueWallMs });
    if (t.state !== 'open') continue;
    const steps = tiers.get(t.tier)?.policy.escalation ?? [];
    for (let i = t.escalationLevel; i < steps.length; i++) {
      const step = steps[i]!;
      if (nowWallMs >= t.ackDueWallMs + step.afterMs) out.escalations.push({ ticket: t, level: i + 1, notify: step.notify });
      else break;
    }
  }
  return out;
}

/** The email telling escalation contact `notify` that ticket `t` reached escalation step `level`. */
export function escalationAdvisory(t: Ticket, level: number, notify: string, nowWallMs: number): Advisory {
  const dedupKey = `${t.id}:escalation:${level}`;
  const text = [
    `Ticket ${t.id} (${t.priority}, queue ${t.queue}) for account ${t.account} (${t.tier}) is not acknowledged.`,
    `Acknowledgement was due at ${new Date(t.ackDueWallMs).toISOString()}; this is escalation step ${level}.`,
    '',
    t.title,
    t.description,
  ].join('\n');
  return {
    id: stableId('adv', dedupKey),
    dedupKey,
    signalId: t.signalId,
    account: t.account,
    kind: 'ticket_escalation',
    severity: t.severity,
    tier: t.tier,
    to: [notify],
    subject: `[Forewarn] ${t.priority} ticket overdue: ${t.title}`,
    text,
    html: preformattedHtml(text),
    decidedAtMs: t.createdAtMs,
    decidedAtWallMs: nowWallMs,
    status: 'pending',
    attempts: 0,
    nextAttemptAtWallMs: nowWallMs,
  };
}
