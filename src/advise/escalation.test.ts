/**
 * Ticket SLO clocks end to end through `createForewarn`: an unacknowledged ticket passes its ack
 * due time (a breach, counted once), then each escalation step of its tier emails its contact
 * once; acknowledging stops further steps.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createForewarn, type Forewarn } from '../app.ts';
import { loadServerConfig } from '../config/server-config.ts';
import { ManualClock } from '../domain/clock.ts';
import { createMemoryNotifier } from '../notify/memory.ts';
import { createMemoryStore } from '../store/memory/memory-store.ts';
import { createSqliteStateStore } from '../store/sqlite/sqlite-state-store.ts';
import { defaultBundle, makeTicket, T0 } from '../../test/fixtures/bundle.ts';

const MIN = 60_000;
const open: Forewarn[] = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()!.close();
});

async function boot() {
  const clock = new ManualClock(T0);
  const rules = defaultBundle();
  const fw = await createForewarn({
    config: loadServerConfig({}),
    rules,
    clock,
    state: createSqliteStateStore({ path: ':memory:' }),
    store: createMemoryStore(),
    notifier: createMemoryNotifier(),
  });
  open.push(fw);
  const strategic = rules.tiers.tiers.find((t) => t.name === 'strategic')!;
  return { fw, clock, steps: strategic.policy.escalation, ackMs: strategic.slo.ackMs };
}

const escalations = (fw: Forewarn) => fw.state.listAdvisories({ kind: 'ticket_escalation' });

describe('ticket escalation', () => {
  it('open=>breached=>escalated(1)=>escalated(2): one email per step, never twice', async () => {
    const { fw, clock, steps, ackMs } = await boot();
    expect(steps.length).toBeGreaterThanOrEqual(2);
    fw.state.saveTicket(makeTicket({ id: 'tkt-x', tier: 'strategic', priority: 'P1', ackDueWallMs: T0 + ackMs }));

    clock.set(T0 + ackMs - MIN);
    expect(fw.sweepTickets()).toBe(0);
    expect(escalations(fw)).toHaveLength(0);

    // past the ack due time but before the first step: a breach, no email yet
    clock.set(T0 + ackMs + Math.min(steps[0]!.afterMs, MIN));
    expect(fw.sweepTickets()).toBe(1);
    const breaches = await fw.metrics.registry.getSingleMetricAsString('forewarn_ticket_slo_breaches_total');
    expect(breaches).toContain('tier="strategic",clock="ack"} 1');

    clock.set(T0 + ackMs + steps[0]!.afterMs);
    fw.sweepTickets();
    fw.sweepTickets(); // a second sweep at the same level sends nothing more
    expect(escalations(fw).map((a) => a.to)).toEqual([[steps[0]!.notify]]);
    expect(fw.state.getTicket('tkt-x')!.escalationLevel).toBe(1);
    expect(escalations(fw)[0]!.subject).toMatch(/P1 ticket overdue/);

    clock.set(T0 + ackMs + steps[1]!.afterMs);
    fw.sweepTickets();
    expect(
      escalations(fw)
        .map((a) => a.to[0])
        .sort(),
    ).toEqual([steps[0]!.notify, steps[1]!.notify].sort());
    expect(fw.state.getTicket('tkt-x')!.escalationLevel).toBe(2);
  });

  it('open=>acknowledged: no escalation after the ticket is acknowledged', async () => {
    const { fw, clock, steps, ackMs } = await boot();
    fw.state.saveTicket(makeTicket({ id: 'tkt-y', tier: 'strategic', ackDueWallMs: T0 + ackMs }));
    fw.state.saveTicket({ ...fw.state.getTicket('tkt-y')!, state: 'acknowledged', ackedAtWallMs: T0 });
    clock.set(T0 + ackMs + steps[steps.length - 1]!.afterMs);
    fw.sweepTickets();
    expect(escalations(fw)).toHaveLength(0);
  });
});
