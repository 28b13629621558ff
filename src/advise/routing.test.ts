/**
 * Ticket routing against the default rules: the severity x tier priority matrix, the
 * business-critical raise (capped at P1), queues per domain and SLO due times per tier.
 */
import { describe, expect, it } from 'vitest';
import type { RoutingConfig } from '../config/types.ts';
import type { Domain, Priority, Severity } from '../domain/types.ts';
import { defaultBundle, T0, tierNamed } from '../../test/fixtures/bundle.ts';
import { dueTimes, morePressing, priorityFor, queueFor } from './routing.ts';

const routing = defaultBundle().routing;
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

describe('priorityFor', () => {
  it.each<[Severity, string, Priority, Priority]>([
    // severity, tier, plain, business-critical
    ['critical', 'strategic', 'P1', 'P1'],
    ['critical', 'enterprise', 'P1', 'P1'],
    ['critical', 'growth', 'P2', 'P1'],
    ['critical', 'self-serve', 'P3', 'P2'],
    ['warning', 'strategic', 'P2', 'P1'],
    ['warning', 'enterprise', 'P2', 'P1'],
    ['warning', 'growth', 'P3', 'P2'],
    ['warning', 'self-serve', 'P4', 'P3'],
    ['info', 'strategic', 'P3', 'P2'],
    ['info', 'growth', 'P4', 'P3'],
    ['info', 'self-serve', 'P4', 'P3'],
  ])('%s on %s: %s, business-critical %s', (severity, tier, plain, raised) => {
    expect(priorityFor(routing, severity, tier, false)).toBe(plain);
    expect(priorityFor(routing, severity, tier, true)).toBe(raised);
  });

  it.each<[number, Priority]>([
    [0, 'P4'],
    [1, 'P3'],
    [2, 'P2'],
    [3, 'P1'],
    [10, 'P1'],
  ])('a raise of %i steps takes a business-critical P4 to %s (never above P1)', (steps, want) => {
    const r: RoutingConfig = { ...routing, businessCriticalRaise: steps };
    expect(priorityFor(r, 'warning', 'self-serve', true)).toBe(want);
    expect(priorityFor(r, 'warning', 'self-serve', false)).toBe('P4');
  });

  it('a tier missing from a hand-built matrix falls back to P4 (raised as usual)', () => {
    expect(priorityFor(routing, 'critical', 'no-such-tier', false)).toBe('P4');
    expect(priorityFor(routing, 'critical', 'no-such-tier', true)).toBe('P3');
  });
});

describe('queueFor', () => {
  it.each<[Domain, string]>([
    ['security', 'secops'],
    ['performance', 'sre-performance'],
    ['integrations', 'integrations-team'],
    ['data', 'data-platform'],
  ])('%s -> %s', (domain, queue) => {
    expect(queueFor(routing, domain)).toBe(queue);
  });
});

describe('morePressing', () => {
  it.each<[Priority, Priority, Priority]>([
    ['P1', 'P2', 'P1'],
    ['P2', 'P1', 'P1'],
    ['P3', 'P3', 'P3'],
    ['P4', 'P2', 'P2'],
    ['P2', 'P4', 'P2'],
  ])('%s vs %s -> %s', (a, b, want) => {
    expect(morePressing(a, b)).toBe(want);
  });
});

describe('dueTimes', () => {
  it.each([
    ['strategic', 15 * MIN, 1 * HOUR, 8 * HOUR],
    ['enterprise', 30 * MIN, 2 * HOUR, 1 * DAY],
    ['growth', 4 * HOUR, 8 * HOUR, 3 * DAY],
    ['self-serve', 1 * DAY, 2 * DAY, 5 * DAY],
  ])('%s: ack +%i ms, first response +%i ms, resolve +%i ms after creation', (tier, ack, first, resolve) => {
    expect(dueTimes(tierNamed(tier), T0)).toEqual({
      ackDueWallMs: T0 + ack,
      firstResponseDueWallMs: T0 + first,
      resolveDueWallMs: T0 + resolve,
    });
  });
});
