/**
 * Ticket SLO sweeps as timelines: each due time is reported once, in the sweep whose window
 * (last sweep, now] contains it; escalation steps of the tier fire while the ticket stays
 * unacknowledged, each step once the caller records the level reached.
 */
import { describe, expect, it } from 'vitest';
import type { TierSpec } from '../config/types.ts';
import type { Ticket, TicketState } from '../domain/types.ts';
import { defaultBundle, makeTicket, T0 } from '../../test/fixtures/bundle.ts';
import { sweepSlos, type SloClock } from './slo.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const tiers = new Map<string, TierSpec>(defaultBundle().tiers.tiers.map((t) => [t.name, t]));

/** A strategic ticket created at T0: ack due +15m, first response +1h, resolve +8h. */
const strategicTicket = (overrides: Partial<Ticket> = {}): Ticket =>
  makeTicket({
    tier: 'strategic',
    priority: 'P1',
    ackDueWallMs: T0 + 15 * MIN,
    firstResponseDueWallMs: T0 + HOUR,
    resolveDueWallMs: T0 + 8 * HOUR,
    ...overrides,
  });

/** Sweeps at the given offsets from T0 like the app does (carrying lastSweep and the escalation level). */
function timeline(ticket: Ticket, offsetsMs: number[], change?: { atMs: number; state: TicketState }) {
  let t = ticket;
  let last = T0;
  const events: string[] = [];
  for (const off of offsetsMs) {
    if (change && off >= change.atMs && t.state !== change.state) t = { ...t, state: change.state };
    const r = sweepSlos([t], tiers, last, T0 + off);
    for (const b of r.breaches) events.push(`${off / MIN}m breach ${b.clock}`);
    for (const e of r.escalations) {
      events.push(`${off / MIN}m escalate ${e.level} ${e.notify}`);
      t = { ...t, escalationLevel: Math.max(t.escalationLevel, e.level) };
    }
    last = T0 + off;
  }
  return events;
}

describe('sweepSlos breaches', () => {
  it('open all along: ack, first response and resolve breaches are each reported once, in the sweep that crosses them', () => {
    const events = timeline(strategicTicket({ escalationLevel: 2 }), [
      5 * MIN,
      14 * MIN,
      15 * MIN,
      16 * MIN,
      59 * MIN,
      61 * MIN,
      2 * HOUR,
      8 * HOUR,
      9 * HOUR,
    ]);
    expect(events).toEqual(['15m breach ack', '61m breach first_response', '480m breach resolve']);
  });

  it('one late sweep that crosses every due time reports all three at once', () => {
    const r = sweepSlos([strategicTicket()], tiers, T0, T0 + 9 * HOUR);
    expect(r.breaches.map((b) => [b.clock, b.dueWallMs])).toEqual<Array<[SloClock, number]>>([
      ['ack', T0 + 15 * MIN],
      ['first_response', T0 + HOUR],
      ['resolve', T0 + 8 * HOUR],
    ]);
  });

  it.each<[string, number, number, boolean]>([
    ['due exactly at now is crossed', T0, T0 + 15 * MIN, true],
    ['due exactly at the last sweep was reported then', T0 + 15 * MIN, T0 + 20 * MIN, false],
    ['due after now is not yet', T0, T0 + 15 * MIN - 1, false],
  ])('window edges: %s', (_name, last, now, breached) => {
    const r = sweepSlos([strategicTicket({ escalationLevel: 2 })], tiers, last, now);
    expect(r.breaches.some((b) => b.clock === 'ack')).toBe(breached);
  });

  it.each<[TicketState, SloClock[]]>([
    ['open', ['ack', 'first_response', 'resolve']],
    ['acknowledged', ['resolve']],
    ['resolved', []],
  ])('state %s: the ticket can breach %j', (state, clocks) => {
    const r = sweepSlos([strategicTicket({ state })], tiers, T0, T0 + 9 * HOUR);
    expect(r.breaches.map((b) => b.clock)).toEqual(clocks);
  });

  it('open=>acknowledged before first response due: only resolve breaches later', () => {
    const events = timeline(strategicTicket({ escalationLevel: 2 }), [10 * MIN, 20 * MIN, 30 * MIN, 2 * HOUR, 8 * HOUR, 9 * HOUR], {
      atMs: 20 * MIN,
      state: 'acknowledged',
    });
    expect(events).toEqual(['480m breach resolve']);
  });

  it('open=>resolved: nothing is reported after resolution', () => {
    const events = timeline(strategicTicket(), [10 * MIN, 12 * MIN, 2 * HOUR, 9 * HOUR], { atMs: 12 * MIN, state: 'resolved' });
    expect(events).toEqual([]);
  });
});

describe('sweepSlos escalation', () => {
  it('strategic, never acknowledged: step 1 at ack due + 15m, step 2 at ack due + 1h, each once', () => {
    const events = timeline(strategicTicket(), [15 * MIN, 29 * MIN, 30 * MIN, 31 * MIN, 74 * MIN, 75 * MIN, 80 * MIN, 9 * HOUR]).filter(
      (e) => e.includes('escalate'),
    );
    expect(events).toEqual(['30m escalate 1 support-leads@support.example.com', '75m escalate 2 vp-support@support.example.com']);
  });

  it('open=>acknowledged between the steps: step 2 never fires', () => {
    const events = timeline(strategicTicket(), [30 * MIN, 40 * MIN, 2 * HOUR], { atMs: 40 * MIN, state: 'acknowledged' }).filter((e) =>
      e.includes('escalate'),
    );
    expect(events).toEqual(['30m escalate 1 support-leads@support.example.com']);
  });

  it('one sweep long after both steps reports both levels in order', () => {
    const r = sweepSlos([strategicTicket()], tiers, T0, T0 + 3 * HOUR);
    expect(r.escalations.map((e) => [e.level, e.notify])).toEqual([
      [1, 'support-leads@support.example.com'],
      [2, 'vp-support@support.example.com'],
    ]);
  });

  it('a step stays due at every sweep until the caller records the level (so a failed save is retried)', () => {
    const t = strategicTicket();
    expect(sweepSlos([t], tiers, T0 + 30 * MIN, T0 + 31 * MIN).escalations.map((e) => e.level)).toEqual([1]);
    expect(sweepSlos([t], tiers, T0 + 31 * MIN, T0 + 32 * MIN).escalations.map((e) => e.level)).toEqual([1]);
    expect(sweepSlos([{ ...t, escalationLevel: 1 }], tiers, T0 + 32 * MIN, T0 + 33 * MIN).escalations).toEqual([]);
  });

  it.each([
    ['growth: one step 4h after ack due', 'growth', 4 * HOUR, 8 * HOUR, [1]],
    ['growth: not before', 'growth', 4 * HOUR, 8 * HOUR - 1, []],
    ['self-serve: no escalation steps', 'self-serve', 24 * HOUR, 10 * 24 * HOUR, []],
    ['unknown tier: no steps, no crash', 'gone', 15 * MIN, 10 * HOUR, []],
  ])('%s', (_name, tier, ackAfterMs, nowOffset, levels) => {
    const t = makeTicket({
      tier,
      ackDueWallMs: T0 + ackAfterMs,
      firstResponseDueWallMs: T0 + 100 * HOUR,
      resolveDueWallMs: T0 + 200 * HOUR,
    });
    expect(sweepSlos([t], tiers, T0, T0 + nowOffset).escalations.map((e) => e.level)).toEqual(levels);
  });

  it('tickets are independent: each gets its own breaches and steps', () => {
    const a = strategicTicket({ id: 'a' });
    const b = strategicTicket({ id: 'b', ackDueWallMs: T0 + 2 * HOUR, firstResponseDueWallMs: T0 + 3 * HOUR });
    const r = sweepSlos([a, b], tiers, T0, T0 + 31 * MIN);
    expect(r.breaches.map((x) => `${x.ticket.id}:${x.clock}`)).toEqual(['a:ack']);
    expect(r.escalations.map((x) => `${x.ticket.id}:${x.level}`)).toEqual(['a:1']);
  });
});
