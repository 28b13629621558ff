/**
 * API serialisation: `...Ms` instants become ISO strings under the name without the suffix,
 * at any depth; API time parameters accept ISO 8601 or epoch milliseconds.
 */
import { describe, expect, it } from 'vitest';
import { makeSignal, makeTicket, T0 } from '../../test/fixtures/bundle.ts';
import { parseTimeParam, toApi } from './serialize.ts';

const ISO0 = new Date(T0).toISOString();

describe('toApi', () => {
  it.each<[string, unknown, unknown]>([
    ['a top-level instant', { openedAtMs: T0 }, { openedAt: ISO0 }],
    ['nested objects', { a: { b: { createdAtMs: 0 } } }, { a: { b: { createdAt: '1970-01-01T00:00:00.000Z' } } }],
    ['objects inside arrays', [{ tsMs: T0 }, { tsMs: T0 + 1 }], [{ ts: ISO0 }, { ts: new Date(T0 + 1).toISOString() }]],
    ['undefined instants are dropped', { resolvedAtMs: undefined, x: 1 }, { x: 1 }],
    ['non-finite instants are dropped', { lastMs: Number.NaN, firstMs: -Infinity, x: 1 }, { x: 1 }],
    ['a non-number ...Ms value passes through under its own name', { windowMs: '5m' }, { windowMs: '5m' }],
    ['the key "Ms" alone is not an instant', { Ms: 5 }, { Ms: 5 }],
    ['case matters: "...ms" is not converted', { items: 3, totalms: 4 }, { items: 3, totalms: 4 }],
    ['other values pass through', { n: 1, s: 'x', b: true, z: null, list: [1, 'a'] }, { n: 1, s: 'x', b: true, z: null, list: [1, 'a'] }],
    ['bytes are dropped', { snapshot: new Uint8Array([1, 2]), id: 'x' }, { id: 'x' }],
    ['primitives pass through', 42, 42],
    ['null passes through', null, null],
  ])('%s', (_name, input, want) => {
    expect(toApi(input)).toEqual(want);
  });

  it('a signal keeps every field, with its instants as ISO strings and no ...Ms key left', () => {
    const out = toApi(makeSignal({ state: 'resolved', resolvedAtMs: T0 + 60_000 })) as Record<string, unknown>;
    expect(out).toMatchObject({
      id: 'sig-1',
      onset: new Date(T0 - 15 * 60_000).toISOString(),
      openedAt: ISO0,
      resolvedAt: new Date(T0 + 60_000).toISOString(),
      peakScore: 0.7,
    });
    expect(out.openedAtWallMs).toBeUndefined();
    expect(out.openedAtWall).toBe(new Date(T0 + 1000).toISOString());
    expect(Object.keys(out).filter((k) => k.endsWith('Ms'))).toEqual([]);
  });

  it('a ticket: due times become ackDueWall etc.', () => {
    const out = toApi(makeTicket()) as Record<string, unknown>;
    expect(out.ackDueWall).toBe(new Date(T0 + 4 * 3_600_000).toISOString());
    expect(out.resolveDueWall).toBe(new Date(T0 + 72 * 3_600_000).toISOString());
    expect(out.escalationLevel).toBe(0);
  });

  it('does not change its input', () => {
    const input = { a: { tsMs: T0 } };
    toApi(input);
    expect(input).toEqual({ a: { tsMs: T0 } });
  });
});

describe('parseTimeParam', () => {
  it.each<[string, string | undefined, number | undefined]>([
    ['absent', undefined, undefined],
    ['empty', '', undefined],
    ['epoch ms', String(T0), T0],
    ['negative epoch ms', '-1000', -1000],
    ['ISO with Z', '2024-03-07T10:00:00Z', T0],
    ['ISO with offset', '2024-03-07T11:00:00+01:00', T0],
    ['ISO with millis', '2024-03-07T10:00:00.250Z', T0 + 250],
  ])('%s: %j -> %s', (_name, raw, want) => {
    expect(parseTimeParam(raw)).toBe(want);
  });

  it.each(['yesterday', '10:00', '2024-13-45T99:00:00Z', '12abc'])('%j is an error quoting the value', (raw) => {
    const r = parseTimeParam(raw);
    expect(r).toBeInstanceOf(Error);
    expect((r as Error).message).toBe(`"${raw}" is not an ISO 8601 time or epoch milliseconds`);
  });
});
