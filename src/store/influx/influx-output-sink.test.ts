/**
 * The influx output sink's lines, with a recording writer: names, tags and fields of anomaly
 * (band included), health, signal (open=>resolved) and advisory outputs; non-finite fields left
 * out; nothing spooled until flush (or a full buffer); the no-op sink does nothing.
 */
import { describe, expect, it } from 'vitest';
import type { AnomalyScore, Signal } from '../../domain/types.ts';
import { noopOutputSink } from '../output-sink.ts';
import { createInfluxOutputSink } from './influx-output-sink.ts';

function recorder() {
  const appended: Array<{
    lines: string;
    points: number;
    durable: boolean | undefined;
  }> = [];
  return {
    appended,
    writer: {
      append: async (lines: string, points: number, durable?: boolean) => {
        appended.push({ lines, points, durable });
      },
    },
  };
}

const score = (s: Partial<AnomalyScore>): AnomalyScore => ({
  score: 0,
  direction: 'none',
  expected: NaN,
  observed: NaN,
  deviation: 0,
  detector: 'x',
  ...s,
});

const signal: Signal = {
  id: 'sig-1',
  account: 'acme-corp',
  rule: 'latency_creep',
  metric: 'api_latency_p95_ms',
  domain: 'performance',
  severity: 'warning',
  state: 'open',
  direction: 'up',
  onsetMs: 1000,
  openedAtMs: 1000,
  openedAtWallMs: 1000,
  peakScore: 0.8,
  lastScore: 0.8,
  expected: 200,
  observed: 800,
  tier: 'strategic',
  summary: 'latency',
};

describe('influx output sink', () => {
  it.each([
    {
      what: 'an anomalous point of a ruled ratio series, with its band',
      account: 'acme-corp',
      watch: { id: 'error_rate_rise', series: 'api_errors/api_requests' },
      s: score({ score: 0.9, expected: 0.01, observed: 0.05, deviation: 8 }),
      line: 'forewarn_anomaly,account=acme-corp,rule=error_rate_rise,series=api_errors/api_requests score=0.9000000,expected=0.01000000,observed=0.05000000,deviation=8.000000,lower=-0.005000000,upper=0.02500000 1700000000000',
    },
    {
      what: 'a normal point of a default watch (deviation 0: no band)',
      account: 'globex',
      watch: { id: 'metric:widgets built', series: 'widgets built' },
      s: score({ score: 0, expected: 5, observed: 5, deviation: 0 }),
      line: 'forewarn_anomaly,account=globex,rule=metric:widgets\\ built,series=widgets\\ built score=0,expected=5.000000,observed=5.000000,deviation=0 1700000000000',
    },
    {
      what: 'a warming-up detector (no expectation yet)',
      account: 'initech',
      watch: { id: 'latency_creep', series: 'api_latency_p95_ms' },
      s: score({ score: 0, deviation: NaN }),
      line: 'forewarn_anomaly,account=initech,rule=latency_creep,series=api_latency_p95_ms score=0 1700000000000',
    },
  ])('anomaly: $what', async ({ account, watch, s, line }) => {
    const r = recorder();
    const sink = createInfluxOutputSink({ writer: r.writer });
    sink.anomaly({ account, watch, tsMs: 1_700_000_000_000, score: s });
    expect(r.appended).toEqual([]);
    await sink.flush();
    expect(r.appended).toEqual([{ lines: line, points: 1, durable: false }]);
  });

  it('health, signal open=>resolved and advisory lines, spooled together on flush', async () => {
    const r = recorder();
    const sink = createInfluxOutputSink({ writer: r.writer });
    sink.health({
      account: 'acme-corp',
      tier: 'strategic',
      score: 42.5,
      tsMs: 2000,
    });
    sink.signal(signal, 3000, 0.8);
    sink.signal({ ...signal, state: 'resolved' }, 4000, 0.1);
    sink.advisory({
      account: 'acme-corp',
      kind: 'technical_advisory',
      tier: 'strategic',
      severity: 'warning',
      decidedAtMs: 3000,
    });
    await sink.flush();
    expect(r.appended).toHaveLength(1);
    expect(r.appended[0]!.points).toBe(4);
    expect(r.appended[0]!.lines.split('\n')).toEqual([
      'forewarn_health,account=acme-corp,tier=strategic score=42.5 2000',
      'forewarn_signal,account=acme-corp,domain=performance,rule=latency_creep,severity=warning,tier=strategic open=1,score=0.8 3000',
      'forewarn_signal,account=acme-corp,domain=performance,rule=latency_creep,severity=warning,tier=strategic open=0,score=0.1 4000',
      'forewarn_advisory,account=acme-corp,kind=technical_advisory,severity=warning,tier=strategic sent=1 3000',
    ]);
    await sink.flush();
    expect(r.appended).toHaveLength(1);
  });

  it('an empty tier label is left out rather than written empty', async () => {
    const r = recorder();
    const sink = createInfluxOutputSink({ writer: r.writer });
    sink.health({ account: 'newco', tier: '', score: 100, tsMs: 2000 });
    await sink.close();
    expect(r.appended[0]!.lines).toBe('forewarn_health,account=newco score=100 2000');
  });

  it('spools by itself once the buffer passes maxBufferBytes', async () => {
    const r = recorder();
    const sink = createInfluxOutputSink({
      writer: r.writer,
      maxBufferBytes: 200,
    });
    for (let i = 0; i < 10; i++)
      sink.health({
        account: `acct-${i}`,
        tier: 'growth',
        score: 90,
        tsMs: 1000 + i,
      });
    await Promise.resolve();
    expect(r.appended.length).toBeGreaterThan(0);
    await sink.flush();
    expect(r.appended.reduce((n, a) => n + a.points, 0)).toBe(10);
  });

  it('a failed spool append is reported, not thrown', async () => {
    const errors: string[] = [];
    const sink = createInfluxOutputSink({
      writer: { append: () => Promise.reject(new Error('disk full')) },
      onError: (e) => errors.push(e.message),
    });
    sink.health({ account: 'a', tier: 't', score: 1, tsMs: 5 });
    await expect(sink.flush()).resolves.toBeUndefined();
    expect(errors).toEqual(['influx output sink: 1 output lines not spooled: disk full']);
  });

  it('the no-op sink is disabled and does nothing', async () => {
    expect(noopOutputSink.enabled).toBe(false);
    noopOutputSink.health({ account: 'a', tier: 't', score: 1, tsMs: 5 });
    await expect(noopOutputSink.flush()).resolves.toBeUndefined();
  });
});
