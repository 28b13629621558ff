import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, formatIssue } from './errors.ts';
import type { ConfigIssue } from './errors.ts';
import { inspectRules, loadRules } from './load-rules.ts';
import { DEFAULTS } from './schema.ts';

const DEFAULT_RULES = fileURLToPath(new URL('../../rules', import.meta.url));
const H = 3_600_000;
const M = 60_000;

/** A change to one file of a copy of the default rules folder. */
type Patch =
  | { file: string; replace: string; with: string }
  | { file: string; remove: true }
  | { file: string; write: string }
  | { file: string; append: string };

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Copies rules/ to a temp folder and applies the patches (each replace must match). */
function patchedRules(...patches: Patch[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'forewarn-rules-'));
  temps.push(dir);
  cpSync(DEFAULT_RULES, dir, { recursive: true });
  for (const p of patches) {
    const file = path.join(dir, p.file);
    if ('remove' in p) unlinkSync(file);
    else if ('write' in p) writeFileSync(file, p.write);
    else if ('append' in p) writeFileSync(file, readFileSync(file, 'utf8') + p.append);
    else {
      const text = readFileSync(file, 'utf8');
      if (!text.includes(p.replace)) throw new Error(`test patch: ${p.file} has no ${JSON.stringify(p.replace)}`);
      writeFileSync(file, text.replace(p.replace, p.with));
    }
  }
  return dir;
}

/**
 * Line and column (1-based) of a marked place in a file: `at` is a snippet of the file with `|`
 * marking the exact character, e.g. `ack: |15 minutes`.
 */
function positionOf(dir: string, file: string, at: string): { line: number; column: number } {
  const text = readFileSync(path.join(dir, file), 'utf8');
  const index = text.indexOf(at.replace('|', ''));
  if (index < 0) throw new Error(`test: ${file} has no ${JSON.stringify(at)}`);
  const offset = index + Math.max(0, at.indexOf('|'));
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
}

interface Expected {
  file: string;
  path: string;
  message: string | RegExp;
  /** where the issue must point (see positionOf); omitted: no position expected */
  at?: string;
  /** true: the issue must have a line, wherever it is */
  anyLine?: true;
}

function expectIssue(dir: string, issues: readonly ConfigIssue[], want: Expected): void {
  const file = path.join(dir, want.file);
  const matches = issues.filter(
    (i) =>
      i.file === file &&
      i.path === want.path &&
      (typeof want.message === 'string' ? i.message === want.message : want.message.test(i.message)),
  );
  expect(
    matches,
    `no issue like ${JSON.stringify({ ...want, message: String(want.message) })} in:\n${issues.map(formatIssue).join('\n')}`,
  ).toHaveLength(1);
  const issue = matches[0]!;
  if (want.at) expect({ line: issue.line, column: issue.column }).toEqual(positionOf(dir, want.file, want.at));
  else if (want.anyLine) expect(issue.line).toBeGreaterThan(0);
  else expect(issue.line).toBeUndefined();
}

describe('loadRules: the default rules folder', () => {
  it('loads without issues', () => {
    const result = inspectRules(DEFAULT_RULES);
    expect(result.issues.map(formatIssue)).toEqual([]);
    expect(result.counts).toEqual({ tiers: 4, rules: 6, templates: 4, accounts: 6, sources: 3 });
  });

  it('orders the tiers highest-value first, with ranks, ms SLOs and filled-in actions', () => {
    const bundle = loadRules(DEFAULT_RULES);
    expect(bundle.tiers.tiers.map((t) => [t.name, t.rank])).toEqual([
      ['strategic', 0],
      ['enterprise', 1],
      ['growth', 2],
      ['self-serve', 3],
    ]);
    const [strategic, , growth, selfServe] = bundle.tiers.tiers;
    expect(strategic?.slo).toEqual({ ackMs: 15 * M, firstResponseMs: H, resolveMs: 8 * H });
    expect(strategic?.criteria).toEqual({ strategic: true, minContractValueUsd: 500_000, match: 'any' });
    expect(strategic?.policy.escalation).toEqual([
      { afterMs: 15 * M, notify: 'support-leads@support.example.com' },
      { afterMs: H, notify: 'vp-support@support.example.com' },
    ]);
    expect(growth?.policy.actions).toEqual({
      info: [],
      warning: ['csm_alert', 'preventive_advisory'],
      critical: ['csm_alert', 'preventive_advisory', 'ticket'],
    });
    expect(selfServe?.criteria).toEqual({ match: 'any' });
    expect(selfServe?.policy.actions.warning).toEqual([]);
  });

  it('reads the demo metrics, the ratio rule and routing', () => {
    const bundle = loadRules(DEFAULT_RULES);
    expect(bundle.rules.rules.map((r) => r.series).sort()).toEqual(
      ['api_requests', 'api_errors/api_requests', 'api_latency_p95_ms', 'integration_failures', 'quota_used_ratio', 'auth_failures'].sort(),
    );
    const errorRate = bundle.rules.rules.find((r) => r.name === 'error_rate_rise');
    expect(errorRate?.ratio).toEqual({ numerator: 'api_errors', denominator: 'api_requests', minDenominator: 50, minNumerator: 3 });
    expect(errorRate?.metric).toBeUndefined();
    expect(errorRate?.runbookUrl).toMatch(/^https:\/\/kb\.example\.com\//);
    expect(bundle.routing.queues.security).toEqual({ queue: 'secops', email: 'secops@support.example.com' });
    expect(bundle.routing.priority.critical).toEqual({ strategic: 'P1', enterprise: 'P1', growth: 'P2', 'self-serve': 'P3' });
    expect(bundle.routing.businessCriticalRaise).toBe(1);
    expect(Object.keys(bundle.templates).sort()).toEqual(
      ['csm_alert', 'preventive_advisory', 'resolution_note', 'technical_advisory'].sort(),
    );
    expect(bundle.accounts.find((a) => a.id === 'stark-retail')?.tier).toBe('enterprise');
    expect(bundle.dir).toBe(path.resolve(DEFAULT_RULES));
  });

  it('returns a deeply frozen bundle', () => {
    const bundle = loadRules(DEFAULT_RULES);
    expect(Object.isFrozen(bundle)).toBe(true);
    expect(Object.isFrozen(bundle.tiers.tiers[0]?.slo)).toBe(true);
    expect(Object.isFrozen(bundle.tiers.tiers[0]?.policy.actions.warning)).toBe(true);
    expect(Object.isFrozen(bundle.rules.rules[0]?.severity)).toBe(true);
    expect(Object.isFrozen(bundle.accounts[0]?.technicalContacts[0])).toBe(true);
    expect(() => {
      (bundle.tiers.tiers[0]!.slo as { ackMs: number }).ackMs = 1;
    }).toThrow(TypeError);
    expect(() => (bundle.rules.rules as unknown[]).push({})).toThrow(TypeError);
  });
});

describe('loadRules: defaults', () => {
  it('fills every default of a rule that leaves the optional keys out', () => {
    const dir = patchedRules({
      file: 'rules.yaml',
      replace:
        '    detector: combined\n    direction: up\n    domain: security\n    severity: { info: 0.4, warning: 0.6, critical: 0.8 }\n    open_after_points: 2\n    resolve_below: 0.3\n    resolve_after_points: 6\n',
      with: '    domain: security\n',
    });
    const rule = loadRules(dir).rules.rules.find((r) => r.name === 'auth_failure_spike');
    expect(rule).toMatchObject({
      detector: DEFAULTS.detector,
      direction: DEFAULTS.direction,
      severity: DEFAULTS.severity,
      openAfterPoints: DEFAULTS.openAfterPoints,
      resolveBelow: DEFAULTS.resolveBelow,
      resolveAfterPoints: DEFAULTS.resolveAfterPoints,
    });
  });

  it('fills the policy defaults and reads a missing accounts.yaml as no seed accounts', () => {
    const dir = patchedRules(
      { file: 'tiers.yaml', replace: '      resolution_note: false\n      cooldown: 1d\n', with: '' },
      { file: 'accounts.yaml', remove: true },
    );
    const bundle = loadRules(dir);
    expect(bundle.tiers.tiers[3]?.policy).toMatchObject({
      resolutionNote: DEFAULTS.resolutionNote,
      cooldownMs: DEFAULTS.cooldownMs,
      escalation: [],
    });
    expect(bundle.accounts).toEqual([]);
  });
});

describe('loadRules: YAML conveniences', () => {
  it('accepts anchors and merge keys to share a policy between tiers', () => {
    const dir = patchedRules(
      {
        file: 'tiers.yaml',
        replace:
          '    policy:\n      actions:\n        warning: [csm_alert, technical_advisory, ticket]\n        critical: [csm_alert, technical_advisory, ticket]\n      resolution_note: true\n      cooldown: 2h\n',
        with: '    policy:\n      <<: &high_value\n        actions:\n          warning: [csm_alert, technical_advisory, ticket]\n          critical: [csm_alert, technical_advisory, ticket]\n        resolution_note: true\n      cooldown: 2h\n',
      },
      {
        file: 'tiers.yaml',
        replace:
          '    policy:\n      actions:\n        warning: [csm_alert, technical_advisory, ticket]\n        critical: [csm_alert, technical_advisory, ticket]\n      resolution_note: true\n      cooldown: 4h\n',
        with: '    policy:\n      <<: *high_value\n      cooldown: 4h\n',
      },
    );
    const [strategic, enterprise] = loadRules(dir).tiers.tiers;
    expect(enterprise?.policy.actions).toEqual(strategic?.policy.actions);
    expect(enterprise?.policy.cooldownMs).toBe(4 * H);
  });
});

describe('loadRules: broken folders name the file, line and path', () => {
  const cases: Array<[name: string, patches: Patch[], want: Expected[]]> = [
    [
      'unknown key (with a hint for camelCase)',
      [{ file: 'tiers.yaml', replace: 'first_response: 1h', with: 'firstResponse: 1h' }],
      [
        {
          file: 'tiers.yaml',
          path: 'tiers[0].slo.firstResponse',
          message: 'unknown key "firstResponse" (did you mean first_response?)',
          at: '|firstResponse',
        },
        {
          file: 'tiers.yaml',
          path: 'tiers[0].slo.first_response',
          message: 'missing required key "first_response"',
          at: 'slo:\n      |ack: 15m',
        },
      ],
    ],
    [
      'bad duration',
      [{ file: 'tiers.yaml', replace: 'ack: 4h', with: 'ack: 15 minutes' }],
      [
        {
          file: 'tiers.yaml',
          path: 'tiers[2].slo.ack',
          message: 'invalid duration "15 minutes" (use e.g. 15m, 4h, 2d)',
          at: 'ack: |15 minutes',
        },
      ],
    ],
    [
      'duration without a unit',
      [{ file: 'tiers.yaml', replace: 'cooldown: 12h', with: 'cooldown: 720' }],
      [
        {
          file: 'tiers.yaml',
          path: 'tiers[2].policy.cooldown',
          message: 'invalid duration 720 (use e.g. 15m, 4h, 2d)',
          at: 'cooldown: |720',
        },
      ],
    ],
    [
      'SLO resolve shorter than first response',
      [{ file: 'tiers.yaml', replace: 'resolve: 8h', with: 'resolve: 30m' }],
      [
        {
          file: 'tiers.yaml',
          path: 'tiers[0].slo.resolve',
          message: 'resolve must not be shorter than first_response',
          at: 'resolve: |30m',
        },
      ],
    ],
    [
      'unknown policy action',
      [{ file: 'tiers.yaml', replace: 'critical: [preventive_advisory, ticket]', with: 'critical: [preventive_advisory, tickets]' }],
      [
        {
          file: 'tiers.yaml',
          path: 'tiers[3].policy.actions.critical[1]',
          message: 'unknown action "tickets" (expected one of csm_alert, preventive_advisory, technical_advisory, ticket)',
          at: '|tickets',
        },
      ],
    ],
    [
      'duplicate tier name',
      [{ file: 'tiers.yaml', replace: '  - name: growth', with: '  - name: enterprise' }],
      [
        {
          file: 'tiers.yaml',
          path: 'tiers[2].name',
          message: 'duplicate tier name "enterprise" (first defined at tiers[1])',
          at: 'name: |enterprise\n    description: Mid-market',
        },
        // with "growth" gone from tiers.yaml, routing.yaml now names a tier that does not exist
        {
          file: 'routing.yaml',
          path: 'priority.critical.growth',
          message: 'unknown tier "growth" (tiers are strategic, enterprise, self-serve)',
          at: 'P1, |growth: P2',
        },
        {
          file: 'routing.yaml',
          path: 'priority.warning.growth',
          message: 'unknown tier "growth" (tiers are strategic, enterprise, self-serve)',
          at: 'P2, |growth: P3',
        },
        {
          file: 'routing.yaml',
          path: 'priority.info.growth',
          message: 'unknown tier "growth" (tiers are strategic, enterprise, self-serve)',
          at: 'P3, |growth: P4',
        },
      ],
    ],
    [
      'escalation steps out of order',
      [{ file: 'tiers.yaml', replace: 'after: 1h', with: 'after: 10m' }],
      [
        {
          file: 'tiers.yaml',
          path: 'tiers[0].policy.escalation[1].after',
          message: 'escalation steps must be in increasing order of after',
          at: 'after: |10m',
        },
      ],
    ],
    [
      'YAML syntax error',
      [
        {
          file: 'tiers.yaml',
          replace: 'warning: [csm_alert, technical_advisory, ticket]',
          with: 'warning: [csm_alert, technical_advisory, ticket',
        },
      ],
      [{ file: 'tiers.yaml', path: '', message: /^yaml: flow sequence/, anyLine: true }],
    ],
    [
      'duplicate YAML key',
      [{ file: 'routing.yaml', append: 'business_critical_raise: 2\n' }],
      [{ file: 'routing.yaml', path: '', message: 'yaml: map keys must be unique', at: '|business_critical_raise: 2' }],
    ],
    [
      'unknown tier in routing',
      [{ file: 'routing.yaml', replace: 'growth: P3, self-serve: P4 }', with: 'gold: P3, self-serve: P4 }' }],
      [
        {
          file: 'routing.yaml',
          path: 'priority.warning.gold',
          message: 'unknown tier "gold" (tiers are strategic, enterprise, growth, self-serve)',
          at: '|gold',
        },
        { file: 'routing.yaml', path: 'priority.warning', message: 'missing priority for tier "growth"', at: '|warning:  {' },
      ],
    ],
    [
      'misspelt tier in routing gets a hint',
      [{ file: 'routing.yaml', replace: 'growth: P4, self-serve: P4 }', with: 'growth: P4, selfserve: P4 }' }],
      [
        {
          file: 'routing.yaml',
          path: 'priority.info.selfserve',
          message: /^unknown tier "selfserve" .*; did you mean self-serve\?$/,
          at: '|selfserve',
        },
        { file: 'routing.yaml', path: 'priority.info', message: 'missing priority for tier "self-serve"', at: '|info:' },
      ],
    ],
    [
      'invalid priority',
      [{ file: 'routing.yaml', replace: '{ strategic: P1,', with: '{ strategic: P0,' }],
      [
        {
          file: 'routing.yaml',
          path: 'priority.critical.strategic',
          message: 'invalid priority "P0" (expected one of P1, P2, P3, P4)',
          at: '|P0',
        },
      ],
    ],
    [
      'missing queue for a domain',
      [{ file: 'routing.yaml', replace: '  data:\n    queue: data-platform\n    email: data-platform@support.example.com\n', with: '' }],
      [{ file: 'routing.yaml', path: 'queues.data', message: 'missing required key "data"', at: 'queues:\n  |security:' }],
    ],
    [
      'duplicate rule name',
      [{ file: 'rules.yaml', replace: '  - name: quota_exhaustion', with: '  - name: usage_collapse' }],
      [
        {
          file: 'rules.yaml',
          path: 'rules[4].name',
          message: 'duplicate rule name "usage_collapse" (first defined at rules[0])',
          at: "name: |usage_collapse\n    description: The account's plan",
        },
      ],
    ],
    [
      'thresholds out of order',
      [
        {
          file: 'rules.yaml',
          replace: 'severity: { info: 0.45, warning: 0.65, critical: 0.88 }',
          with: 'severity: { info: 0.45, warning: 0.95, critical: 0.88 }',
        },
      ],
      [
        {
          file: 'rules.yaml',
          path: 'rules[2].severity.warning',
          message: 'thresholds out of order: warning 0.95 must be below critical 0.88',
          at: '|0.95',
        },
      ],
    ],
    [
      'threshold above 1',
      [{ file: 'rules.yaml', replace: 'warning: 0.6, critical: 0.8 }', with: 'warning: 0.6, critical: 1.5 }' }],
      [{ file: 'rules.yaml', path: 'rules[5].severity.critical', message: 'must be <= 1, got 1.5', at: '|1.5' }],
    ],
    [
      'resolve_below not below the lowest threshold',
      [{ file: 'rules.yaml', replace: 'resolve_below: 0.25', with: 'resolve_below: 0.5' }],
      [
        {
          file: 'rules.yaml',
          path: 'rules[4].resolve_below',
          message: 'resolve_below 0.5 must be below the lowest threshold 0.4',
          at: 'resolve_below: |0.5',
        },
      ],
    ],
    [
      'both metric and ratio',
      [
        {
          file: 'rules.yaml',
          replace: '    metric: api_latency_p95_ms\n',
          with: '    metric: api_latency_p95_ms\n    ratio: api_errors/api_requests\n',
        },
      ],
      [
        {
          file: 'rules.yaml',
          path: 'rules[2].ratio',
          message: 'a rule has exactly one of metric or ratio, not both',
          at: 'ratio: |api_errors/api_requests\n    detector: combined\n    direction: up\n    domain: performance\n    severity: { info: 0.45, warning: 0.65, critical: 0.88',
        },
      ],
    ],
    [
      'neither metric nor ratio',
      [{ file: 'rules.yaml', replace: '    metric: auth_failures\n', with: '' }],
      [{ file: 'rules.yaml', path: 'rules[5]', message: 'a rule needs exactly one of metric or ratio', at: '- |name: auth_failure_spike' }],
    ],
    [
      'malformed ratio',
      [{ file: 'rules.yaml', replace: 'ratio: api_errors/api_requests', with: 'ratio: api_errors' }],
      [
        {
          file: 'rules.yaml',
          path: 'rules[1].ratio',
          message: 'invalid ratio "api_errors" (expected numerator/denominator, e.g. api_errors/api_requests)',
          at: 'ratio: |api_errors',
        },
      ],
    ],
    [
      'min_denominator on a metric rule',
      [{ file: 'rules.yaml', replace: '    metric: auth_failures\n', with: '    metric: auth_failures\n    min_denominator: 5\n' }],
      [
        {
          file: 'rules.yaml',
          path: 'rules[5].min_denominator',
          message: 'min_denominator only applies to ratio rules',
          at: 'min_denominator: |5\n',
        },
      ],
    ],
    [
      'min_numerator on a metric rule',
      [{ file: 'rules.yaml', replace: '    metric: auth_failures\n', with: '    metric: auth_failures\n    min_numerator: 3\n' }],
      [
        {
          file: 'rules.yaml',
          path: 'rules[5].min_numerator',
          message: 'min_numerator only applies to ratio rules',
          at: 'min_numerator: |3\n',
        },
      ],
    ],
    [
      'a negative min_numerator',
      [{ file: 'rules.yaml', replace: 'min_numerator: 3 ', with: 'min_numerator: -1 ' }],
      [{ file: 'rules.yaml', path: 'rules[1].min_numerator', message: 'must be >= 0, got -1', at: 'min_numerator: |-1' }],
    ],
    [
      'wrong type',
      [{ file: 'rules.yaml', replace: 'open_after_points: 2', with: 'open_after_points: "2"' }],
      [{ file: 'rules.yaml', path: 'rules[3].open_after_points', message: 'expected number, got "2"', at: 'open_after_points: |"2"' }],
    ],
    [
      'missing required key',
      [{ file: 'rules.yaml', replace: '    domain: security\n', with: '' }],
      [{ file: 'rules.yaml', path: 'rules[5].domain', message: 'missing required key "domain"', at: '- |name: auth_failure_spike' }],
    ],
    [
      'unknown domain',
      [{ file: 'rules.yaml', replace: 'domain: security', with: 'domain: secops' }],
      [
        {
          file: 'rules.yaml',
          path: 'rules[5].domain',
          message: 'invalid value "secops" (expected one of security, performance, integrations, data)',
          at: 'domain: |secops',
        },
      ],
    ],
    [
      'runbook url without a scheme',
      [{ file: 'rules.yaml', replace: 'https://kb.example.com/runbooks/latency-creep', with: 'kb.example.com/latency' }],
      [
        {
          file: 'rules.yaml',
          path: 'rules[2].runbook_url',
          message: 'invalid url "kb.example.com/latency" (expected http:// or https://)',
          at: '|kb.example.com/latency',
        },
      ],
    ],
    [
      'missing template',
      [{ file: 'templates/resolution_note.yaml', remove: true }],
      [{ file: 'templates/resolution_note.yaml', path: '', message: 'missing file' }],
    ],
    [
      'bad mustache',
      [{ file: 'templates/technical_advisory.yaml', replace: 'with you{{/csm.name}}.', with: 'with you.' }],
      [
        {
          file: 'templates/technical_advisory.yaml',
          path: 'text',
          message: 'invalid mustache: unclosed section "csm.name"',
          at: 'too|{{#csm.name}}, and {{csm.name}} ({{csm.email}}) will follow up with you.',
        },
      ],
    ],
    [
      'unknown template variable',
      [{ file: 'templates/csm_alert.yaml', replace: '{{signal.onset}}', with: '{{signal.started}}' }],
      [
        {
          file: 'templates/csm_alert.yaml',
          path: 'text',
          message: /^unknown template variable "signal\.started"/,
          at: 'Since:      |{{signal.started}}',
        },
      ],
    ],
    [
      'misspelt template variable inside a section, in the subject',
      [
        {
          file: 'templates/preventive_advisory.yaml',
          replace: 'subject: "{{account.name}}:',
          with: 'subject: "{{#account}}{{nme}}{{/account}}:',
        },
      ],
      [
        {
          file: 'templates/preventive_advisory.yaml',
          path: 'subject',
          message: 'unknown template variable "nme"',
          at: '{{#account}}|{{nme}}',
        },
      ],
    ],
    [
      'unescaped variable in html',
      [
        {
          file: 'templates/preventive_advisory.yaml',
          replace: '<strong>{{signal.title}}</strong>',
          with: '<strong>{{{signal.title}}}</strong>',
        },
      ],
      [
        {
          file: 'templates/preventive_advisory.yaml',
          path: 'html',
          message: 'unescaped variable "signal.title" is not allowed in html templates (use {{signal.title}})',
          at: '<strong>|{{{signal.title}}}',
        },
      ],
    ],
    [
      'partial in a template',
      [{ file: 'templates/resolution_note.yaml', replace: 'Reference: {{signal.id}}', with: 'Reference: {{> footer}}' }],
      [
        {
          file: 'templates/resolution_note.yaml',
          path: 'text',
          message: 'partials are not supported ({{>footer}})',
          at: 'Reference: |{{> footer}}',
        },
      ],
    ],
    [
      'unknown key in a template file',
      [{ file: 'templates/resolution_note.yaml', append: 'from: support@example.com\n' }],
      [{ file: 'templates/resolution_note.yaml', path: 'from', message: 'unknown key "from"', at: '|from:' }],
    ],
    [
      'unquoted template that YAML reads as a mapping',
      [
        {
          file: 'templates/resolution_note.yaml',
          replace: 'subject: "Resolved: {{signal.title}} ({{account.name}})"',
          with: 'subject: {{signal.title}}',
        },
      ],
      [
        {
          file: 'templates/resolution_note.yaml',
          path: 'subject',
          message: 'expected a template string, got a mapping (quote a template that starts with {{ or [)',
          at: 'subject: |{{signal.title}}',
        },
      ],
    ],
    [
      'unknown template kind',
      [{ file: 'templates/escalation.yaml', write: 'subject: x\ntext: x\nhtml: x\n' }],
      [{ file: 'templates/escalation.yaml', path: '', message: /^unknown template kind "escalation"/ }],
    ],
    [
      'misspelt top-level file',
      [{ file: 'tier.yaml', write: 'tiers: []\n' }],
      [{ file: 'tier.yaml', path: '', message: /^unknown file .*; did you mean tiers\.yaml\?$/ }],
    ],
    [
      'account tier override naming no tier',
      [{ file: 'accounts.yaml', replace: 'tier: enterprise', with: 'tier: gold' }],
      [
        {
          file: 'accounts.yaml',
          path: 'accounts[5].tier',
          message: 'unknown tier "gold" (tiers are strategic, enterprise, growth, self-serve)',
          at: 'tier: |gold',
        },
      ],
    ],
    [
      'duplicate account id',
      [{ file: 'accounts.yaml', replace: 'id: initech', with: 'id: globex' }],
      [
        {
          file: 'accounts.yaml',
          path: 'accounts[3].id',
          message: 'duplicate account id "globex" (first defined at accounts[1])',
          at: '- id: |globex\n    name: Initech',
        },
      ],
    ],
    [
      'unknown account time zone',
      [{ file: 'accounts.yaml', replace: '    region: us-east\n', with: '    region: us-east\n    timezone: Mars/Olympus\n' }],
      [
        {
          file: 'accounts.yaml',
          path: 'accounts[0].timezone',
          message: 'unknown time zone "Mars/Olympus" (an IANA name such as Europe/Berlin)',
          at: 'timezone: |Mars/Olympus',
        },
      ],
    ],
    [
      'bad contact email',
      [{ file: 'accounts.yaml', replace: 'email: dana.whitfield@example.com }', with: 'email: dana }' }],
      [{ file: 'accounts.yaml', path: 'accounts[0].csm.email', message: 'invalid email address "dana"', at: 'email: |dana }' }],
    ],
    [
      'unknown tier in tier_weights',
      [{ file: 'rules.yaml', replace: 'tier_weights: { self-serve: 0.6 }', with: 'tier_weights: { selfserve: 0.6 }' }],
      [
        {
          file: 'rules.yaml',
          path: 'rules[3].tier_weights.selfserve',
          message: 'unknown tier "selfserve" (tiers are strategic, enterprise, growth, self-serve); did you mean self-serve?',
          anyLine: true,
        },
      ],
    ],
    [
      'empty accounts file',
      [{ file: 'accounts.yaml', write: '# nothing yet\n' }],
      [{ file: 'accounts.yaml', path: '', message: 'empty file (expected a mapping with accounts:)' }],
    ],
  ];

  it.each(cases)('%s', (_name, patches, wants) => {
    const dir = patchedRules(...patches);
    let error: unknown;
    try {
      loadRules(dir);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues;
    for (const want of wants) expectIssue(dir, issues, want);
    // nothing else is wrong with the folder: each case breaks exactly what it says
    expect(issues).toHaveLength(wants.length);
  });

  it('formats an issue as file:line:column: path: message', () => {
    const dir = patchedRules({ file: 'tiers.yaml', replace: 'ack: 4h', with: 'ack: 15 minutes' });
    const { line, column } = positionOf(dir, 'tiers.yaml', 'ack: |15 minutes');
    expect(() => loadRules(dir)).toThrow(ConfigError);
    expect(inspectRules(dir).issues.map(formatIssue)).toEqual([
      `${path.join(dir, 'tiers.yaml')}:${line}:${column}: tiers[2].slo.ack: invalid duration "15 minutes" (use e.g. 15m, 4h, 2d)`,
    ]);
  });

  it('reports every issue in every file at once, in file order', () => {
    const dir = patchedRules(
      { file: 'tiers.yaml', replace: 'ack: 4h', with: 'ack: 15 minutes' },
      { file: 'tiers.yaml', replace: 'cooldown: 12h', with: 'cooldown: 720' },
      { file: 'rules.yaml', replace: '  - name: quota_exhaustion', with: '  - name: usage_collapse' },
      { file: 'routing.yaml', replace: 'growth: P3, self-serve: P4 }', with: 'gold: P3, self-serve: P4 }' },
      { file: 'templates/csm_alert.yaml', replace: '{{signal.onset}}', with: '{{signal.started}}' },
      { file: 'accounts.yaml', replace: 'tier: enterprise', with: 'tier: gold' },
    );
    let error: ConfigError | undefined;
    try {
      loadRules(dir);
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const rel = (f: string) => path.relative(dir, f);
    expect(error!.issues.map((i) => [rel(i.file), i.path])).toEqual([
      ['tiers.yaml', 'tiers[2].slo.ack'],
      ['tiers.yaml', 'tiers[2].policy.cooldown'],
      ['rules.yaml', 'rules[4].name'],
      ['routing.yaml', 'priority.warning'],
      ['routing.yaml', 'priority.warning.gold'],
      ['templates/csm_alert.yaml', 'text'],
      ['accounts.yaml', 'accounts[5].tier'],
    ]);
    expect(error!.toString().split('\n')).toHaveLength(7);
  });

  it('reports a missing folder', () => {
    const missing = path.join(tmpdir(), 'forewarn-no-such-rules-folder');
    expect(() => loadRules(missing)).toThrow(ConfigError);
    expect(inspectRules(missing).issues).toEqual([{ file: missing, path: '', message: 'rules folder not found' }]);
  });
});
