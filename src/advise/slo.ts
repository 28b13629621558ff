/**
 * Ticket SLO clocks, pure: which open tickets passed a due time (ack, first response, resolve)
 * since the last sweep, and which escalation steps of their tier are now due.
 */
import type { TierSpec } from '../config/types.ts';
import type { Ticket } from '../domain/types.ts';

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
