/**
 * Contract between the rules format and the advise stage: the view the advise stage renders
 * templates with fills exactly the variables that templates are allowed to use.
 */
import { describe, expect, it } from 'vitest';
import { templateView } from '../advise/view.ts';
import type { AccountRecord, Signal } from '../domain/types.ts';
import { lintTemplate, TEMPLATE_VARIABLES } from './schema.ts';
import type { RuleSpec } from './types.ts';

const account: AccountRecord = {
  id: 'acme-corp',
  name: 'Acme Corp',
  attributes: { contractValueUsd: 1, monthlyUsage: 1, criticality: 'high', strategic: false, businessCritical: false },
  technicalContacts: [],
  businessContacts: [],
  unclassified: false,
  createdAtMs: 0,
  updatedAtMs: 0,
};
const signal: Signal = {
  id: 's1',
  account: 'acme-corp',
  rule: 'latency_creep',
  metric: 'api_latency_p95_ms',
  domain: 'performance',
  severity: 'warning',
  state: 'resolved',
  direction: 'up',
  onsetMs: 0,
  openedAtMs: 0,
  openedAtWallMs: 0,
  resolvedAtMs: 1,
  peakScore: 0.8,
  lastScore: 0.2,
  expected: 100,
  observed: 300,
  tier: 'growth',
  summary: 'x',
};
const rule: RuleSpec = {
  name: 'latency_creep',
  description: '',
  series: 'api_latency_p95_ms',
  metric: 'api_latency_p95_ms',
  detector: 'combined',
  direction: 'up',
  domain: 'performance',
  severity: { warning: 0.6, critical: 0.85 },
  openAfterPoints: 3,
  resolveBelow: 0.3,
  resolveAfterPoints: 5,
  component: 'c',
  runbookUrl: 'https://kb.example.com/x',
  title: 't',
  guidance: 'g',
  nextStep: 'n',
};

function leafPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object') return [prefix];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k));
}

describe('template variables contract', () => {
  it('the advise view fills exactly TEMPLATE_VARIABLES', () => {
    const view = templateView({ account, tier: 'growth', signal, rule, decidedAtMs: 0, dashboardUrl: 'https://x' });
    expect(leafPaths(view).sort()).toEqual([...TEMPLATE_VARIABLES].sort());
  });

  it('every allowed variable passes the template check', () => {
    const source = TEMPLATE_VARIABLES.map((v) => `{{${v}}}`).join(' ');
    expect(lintTemplate(source, { html: true })).toEqual([]);
  });
});
