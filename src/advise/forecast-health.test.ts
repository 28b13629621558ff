/**
 * Forecasts, health and data gaps through the whole pipeline (`createForewarn` with in-memory
 * stores and an injected clock): a quota climbing to its limit gets a forecast signal whose emails
 * say when the limit is reached and carry the account health; an account that goes silent gets a
 * data-gap ticket for operators and no customer email; a silent fleet is reported in wall time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createForewarn, FLEET_SILENCE_MS, type Forewarn } from '../app.ts';
import { loadServerConfig } from '../config/server-config.ts';
import { ManualClock } from '../domain/clock.ts';
import type { Point } from '../domain/types.ts';
import { createMemoryNotifier } from '../notify/memory.ts';
import { createMemoryStore } from '../store/memory/memory-store.ts';
import { createSqliteStateStore } from '../store/sqlite/sqlite-state-store.ts';
import { defaultBundle, makeAccount } from '../../test/fixtures/bundle.ts';
import { DATA_GAP_RULE, FLEET_ACCOUNT } from './data-gap-reporter.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const STEP = 5 * MIN;
const START = Date.UTC(2024, 4, 1);

const open: Forewarn[] = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()!.close();
});

async function boot() {
  const clock = new ManualClock(START + 30 * DAY);
  const fw = await createForewarn({
    config: loadServerConfig({}),
    rules: defaultBundle(),
    clock,
    state: createSqliteStateStore({ path: ':memory:' }),
    store: createMemoryStore(),
    notifier: createMemoryNotifier(),
  });
  open.push(fw);
  for (const id of ['acme', 'quiet']) {
    fw.state.upsertAccount(
      makeAccount({
        id,
        name: id === 'acme' ? 'Acme' : 'Quiet Co',
        tierOverride: 'strategic',
        unclassified: false,
        csm: { name: 'Dana', email: 'dana@vendor.test' },
        technicalContacts: [{ name: 'SRE', email: `sre@${id}.test` }],
        businessContacts: [],
      }),
    );
    fw.ingest.knowAccount(id);
  }
  return { fw, clock };
}

/** quota: 10 days around 0.45 with a daily wave, then a climb to 1.0 over 3 days */
const ONSET = START + 10 * DAY;
const CROSS = ONSET + 3 * DAY;
function quota(t: number): number {
  const wave = 0.03 * Math.sin((2 * Math.PI * t) / DAY) + 0.004 * Math.sin(t / 7e5);
  return t < ONSET ? 0.45 + wave : 0.45 + (0.55 * (t - ONSET)) / (3 * DAY) + wave;
}

describe('forecast, health and data gaps in the pipeline', () => {
  it('a quota climbing to its limit: forecast signal with the predicted date in the CSM alert, health in every email, one ticket', async () => {
    const { fw } = await boot();
    for (let day = 0; day < 13; day++) {
      const batch: Point[] = [];
      for (let t = START + day * DAY; t < START + (day + 1) * DAY && t < CROSS; t += STEP) {
        batch.push({ account: 'acme', metric: 'quota_used_ratio', tsMs: t, value: quota(t) });
        batch.push({ account: 'quiet', metric: 'quota_used_ratio', tsMs: t, value: 0.4 });
      }
      await fw.ingest.ingest(batch, 'test');
    }
    const signals = fw.state.listSignals({ account: 'acme', limit: 100 });
    const forecast = signals.find((s) => s.rule === 'quota_exhaustion:forecast');
    expect(forecast, signals.map((s) => s.rule).join()).toBeDefined();
    expect(forecast!.metric).toBe('quota_used_ratio:forecast');
    // the prediction recorded with the signal is within 25% of the time that was left
    const left = CROSS - forecast!.openedAtMs;
    expect(Math.abs(forecast!.forecastCrossingMs! - CROSS)).toBeLessThan(0.25 * left);
    expect(forecast!.forecastLowMs!).toBeLessThanOrEqual(forecast!.forecastCrossingMs!);
    expect(forecast!.health!.score).toBeLessThan(100);

    const advisories = fw.state.listAdvisories({ account: 'acme', limit: 100 });
    const csm = advisories.filter((a) => a.kind === 'csm_alert' && a.signalId === forecast!.id);
    expect(csm).toHaveLength(1);
    const day = new Date(forecast!.forecastCrossingMs!).toISOString().slice(0, 10);
    expect(csm[0]!.text).toMatch(/limit 1 reached in ~\d+ (days|hours), around \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(csm[0]!.text).toContain(day);
    for (const a of advisories.filter((x) => x.kind === 'csm_alert' || x.kind === 'technical_advisory'))
      expect(a.text).toMatch(/[Hh]ealth:\s+\d+\/100 - \S/);
    // the forecast shares the anomaly's ticket: one ticket per account x rule incident
    expect(fw.state.listTickets({ account: 'acme' })).toHaveLength(1);
    // the healthy account heard nothing
    expect(fw.state.listAdvisories({ account: 'quiet', limit: 100 })).toHaveLength(0);

    // the API explains the health: score, the forecast among the contributors, weights
    const res = await fw.app.request('/api/accounts/acme/health');
    const body = (await res.json()) as { score: number; summary: string; forecasts: Array<{ rule: string; crossing: string | null }> };
    expect(body.score).toBeLessThan(100);
    expect(body.summary).toMatch(/quota_used_ratio/);
    expect(body.forecasts[0]!.rule).toBe('quota_exhaustion:forecast');
  });

  it('an account gone silent: a data-gap ticket and operator email, never a customer email; resolved when data returns', async () => {
    const { fw } = await boot();
    const batch: Point[] = [];
    for (let t = START; t < START + 3 * DAY; t += STEP) {
      batch.push({ account: 'acme', metric: 'api_requests', tsMs: t, value: 1000 + 300 * Math.sin((2 * Math.PI * t) / DAY) });
      if (t < START + 2 * DAY || t >= START + 2 * DAY + 6 * HOUR)
        batch.push({ account: 'quiet', metric: 'api_requests', tsMs: t, value: 800 + 200 * Math.sin((2 * Math.PI * t) / DAY) });
    }
    await fw.ingest.ingest(batch, 'test');
    const gaps = fw.state.listSignals({ account: 'quiet', limit: 10 }).filter((s) => s.rule === DATA_GAP_RULE);
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({ domain: 'data', state: 'resolved', onsetMs: START + 2 * DAY - STEP });
    const tickets = fw.state.listTickets({ account: 'quiet' });
    expect(tickets.map((t) => [t.queue, t.state])).toEqual([['data-platform', 'resolved']]);
    const mails = fw.state.listAdvisories({ account: 'quiet', limit: 10 });
    expect(mails.map((a) => [a.kind, a.to.join()])).toEqual([['data_gap', 'data-platform@support.example.com']]);
    // and the silence did not read as a usage collapse
    expect(fw.state.listSignals({ account: 'quiet', limit: 10 }).filter((s) => s.rule === 'usage_collapse')).toHaveLength(0);
  });

  it('the whole fleet silent: reported after the wall-clock limit, cleared by the next batch', async () => {
    const { fw, clock } = await boot();
    await fw.ingest.ingest([{ account: 'acme', metric: 'api_requests', tsMs: START, value: 1 }], 'test');
    clock.advance(FLEET_SILENCE_MS);
    expect(fw.checkFleetSilence()).toBe(false);
    clock.advance(1);
    expect(fw.checkFleetSilence()).toBe(true);
    expect(fw.state.listSignals({ account: FLEET_ACCOUNT, state: 'open' })).toHaveLength(1);
    await fw.ingest.ingest([{ account: 'acme', metric: 'api_requests', tsMs: START + STEP, value: 1 }], 'test');
    expect(fw.state.listSignals({ account: FLEET_ACCOUNT, state: 'open' })).toHaveLength(0);
    expect(fw.state.listSignals({ account: FLEET_ACCOUNT, state: 'resolved' })).toHaveLength(1);
  });
});
