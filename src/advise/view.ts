/**
 * The view model that email templates are rendered with (pure). The variables here are the ones
 * `TEMPLATE_VARIABLES` in config/schema.ts allows templates to use.
 */
import type { TemplateView } from '../config/schema.ts';
import type { RuleSpec } from '../config/types.ts';
import type { AccountRecord, Signal } from '../domain/types.ts';

export interface ViewInput {
  account: AccountRecord;
  tier: string;
  signal: Signal;
  rule: RuleSpec;
  decidedAtMs: number;
  dashboardUrl: string;
}

/** Formats a number for people: few significant digits, no exponent for ordinary values. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return x.toFixed(0);
  if (a >= 1) return x.toFixed(2).replace(/\.?0+$/, '');
  if (a === 0) return '0';
  return x.toPrecision(2);
}

/** (observed - expected) relative to expected, in percent, signed; '' when expected is ~0. */
export function deviationPct(expected: number, observed: number): string {
  if (!Number.isFinite(expected) || Math.abs(expected) < 1e-12) return '';
  // `|| 0` turns a rounded -0 into 0: "-0%" must never reach an email
  const r = Math.round(((observed - expected) / Math.abs(expected)) * 100) || 0;
  return `${r >= 0 ? '+' : ''}${r}%`;
}

function iso(ms: number | undefined): string {
  return ms === undefined ? '' : new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}

/** `2024-05-08 14:00 UTC` (minutes) */
export function formatUtcMinute(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A duration for people: `~5 hours`, `~3 days`, `~1 day`, `less than an hour`, `now`. */
export function formatIn(ms: number): string {
  if (!(ms > 0)) return 'now';
  const hours = ms / 3_600_000;
  if (hours < 1) return 'less than an hour';
  if (hours < 36) {
    const h = Math.round(hours);
    return `~${h} hour${h === 1 ? '' : 's'}`;
  }
  const d = Math.round(hours / 24);
  return `~${d} day${d === 1 ? '' : 's'}`;
}

/** The forecast part of the view; every field '' when the signal has no forecast. */
export function forecastView(signal: Signal, decidedAtMs: number): TemplateView['forecast'] {
  const at = signal.forecastCrossingMs;
  if (at === undefined || !Number.isFinite(at)) return { crossing: '', in: '', interval: '', limit: '' };
  const low = signal.forecastLowMs;
  const high = signal.forecastHighMs;
  let interval = '';
  if (low !== undefined && Number.isFinite(low)) {
    interval =
      high !== undefined && Number.isFinite(high)
        ? `${formatUtcMinute(low)} - ${formatUtcMinute(high)}`
        : `from ${formatUtcMinute(low)}, possibly much later`;
  }
  return {
    crossing: formatUtcMinute(at),
    in: formatIn(at - decidedAtMs),
    interval,
    limit: signal.forecastLimit === undefined ? '' : formatNumber(signal.forecastLimit),
  };
}

/** Builds the template view for a signal on an account. */
export function templateView(input: ViewInput): TemplateView {
  const { account, signal, rule } = input;
  return {
    account: { id: account.id, name: account.name, region: account.region ?? '' },
    tier: input.tier,
    signal: {
      id: signal.id,
      title: rule.title,
      summary: signal.summary,
      metric: signal.metric,
      severity: signal.severity,
      direction: signal.direction,
      onset: iso(signal.onsetMs),
      expected: formatNumber(signal.expected),
      observed: formatNumber(signal.observed),
      deviation_pct: deviationPct(signal.expected, signal.observed),
      score: signal.peakScore.toFixed(2),
      domain: signal.domain,
    },
    rule: {
      name: rule.name,
      component: rule.component,
      runbook_url: rule.runbookUrl,
      guidance: rule.guidance,
      next_step: rule.nextStep,
    },
    csm: account.csm ? { name: account.csm.name, email: account.csm.email } : { name: '', email: '' },
    decided_at: iso(input.decidedAtMs),
    resolved_at: iso(signal.resolvedAtMs),
    dashboard_url: input.dashboardUrl,
    forecast: forecastView(signal, input.decidedAtMs),
    health: signal.health ? { score: String(Math.round(signal.health.score)), top: signal.health.top } : { score: '', top: '' },
  };
}
