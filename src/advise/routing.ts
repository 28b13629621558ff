/**
 * Ticket routing, pure: domain -> specialist queue, urgency (severity x tier x business-critical)
 * -> priority P1..P4, and due times from the tier's SLOs.
 */
import type { RoutingConfig, TierSpec } from '../config/types.ts';
import type { Domain, Priority, Severity } from '../domain/types.ts';

const PRIORITIES: readonly Priority[] = ['P1', 'P2', 'P3', 'P4'];

/** The ticket priority for a severity on an account of a tier; business-critical accounts are raised. */
export function priorityFor(routing: RoutingConfig, severity: Severity, tier: string, businessCritical: boolean): Priority {
  const base = routing.priority[severity][tier];
  // the loader guarantees every severity x tier is present; the fallback only guards a hand-built config
  const index = PRIORITIES.indexOf(base ?? 'P4');
  const raised = businessCritical ? Math.max(0, index - routing.businessCriticalRaise) : index;
  return PRIORITIES[raised] ?? 'P4';
}

/** The specialist queue for a domain. */
export function queueFor(routing: RoutingConfig, domain: Domain): string {
  return routing.queues[domain].queue;
}

/** The more urgent of two priorities. */
export function morePressing(a: Priority, b: Priority): Priority {
  return PRIORITIES.indexOf(a) <= PRIORITIES.indexOf(b) ? a : b;
}

export interface DueTimes {
  ackDueWallMs: number;
  firstResponseDueWallMs: number;
  resolveDueWallMs: number;
}

/** SLO due times of a ticket created at `createdAtWallMs` on an account of `tier`. */
export function dueTimes(tier: TierSpec, createdAtWallMs: number): DueTimes {
  return {
    ackDueWallMs: createdAtWallMs + tier.slo.ackMs,
    firstResponseDueWallMs: createdAtWallMs + tier.slo.firstResponseMs,
    resolveDueWallMs: createdAtWallMs + tier.slo.resolveMs,
  };
}
