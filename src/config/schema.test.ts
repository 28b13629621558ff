import { fileURLToPath } from 'node:url';
import Mustache from 'mustache';
import { describe, expect, it } from 'vitest';
import { ADVISORY_KINDS } from '../domain/types.ts';
import { loadRules } from './load-rules.ts';
import type { TemplateView } from './schema.ts';
import { allowedKeysAt, closest, lintTemplate, TEMPLATE_VARIABLES, tiersFileSchema } from './schema.ts';

const DEFAULT_RULES = fileURLToPath(new URL('../../rules', import.meta.url));

/** A view with every variable set to a recognisable value. */
const SAMPLE: TemplateView = {
  account: { id: 'acme-corp', name: 'Acme Corp', region: 'us-east' },
  tier: 'strategic',
  signal: {
    id: 'sig-0042',
    title: 'Your API responses are getting slower',
    summary: 'p95 latency 3x baseline',
    metric: 'api_latency_p95_ms',
    domain: 'performance',
    severity: 'warning',
    direction: 'up',
    onset: '2025-03-04T05:10:00Z',
    expected: '212',
    observed: '655',
    deviation_pct: '+209%',
    score: '0.81',
  },
  rule: {
    name: 'latency_creep',
    component: 'query-service',
    runbook_url: 'https://kb.example.com/runbooks/latency-creep',
    guidance: 'Page and filter your queries.',
    next_step: 'Ask SRE to look at shard 7.',
  },
  csm: { name: 'Dana Whitfield', email: 'dana.whitfield@example.com' },
  decided_at: '2025-03-04T05:25:00Z',
  resolved_at: '2025-03-04T09:40:00Z',
  dashboard_url: 'https://forewarn.example.com/accounts/acme-corp',
  forecast: { crossing: '2025-03-07 14:00 UTC', in: '~3 days', interval: '2025-03-07 02:00 - 2025-03-08 01:00 UTC', limit: '1,500' },
  health: { score: '42', top: 'api_latency_p95_ms 3.1x baseline since 05:10 UTC' },
};

function leafPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object') return [prefix];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k));
}

describe('TEMPLATE_VARIABLES', () => {
  it('names exactly the leaves of TemplateView', () => {
    expect([...TEMPLATE_VARIABLES].sort()).toEqual(leafPaths(SAMPLE).sort());
  });
});

describe('lintTemplate', () => {
  it.each([
    ['a plain variable', '{{account.name}}'],
    ['a section on a known variable', '{{#csm.name}}Hi {{csm.name}}{{/csm.name}}'],
    ['an inverted section', '{{^csm.name}}Hello{{/csm.name}}'],
    ['names relative to an object section', '{{#signal}}{{title}} since {{onset}}{{/signal}}'],
    ['nested object sections', '{{#signal}}{{#rule}}{{next_step}} {{title}}{{/rule}}{{/signal}}'],
    ['the current item inside a section', '{{#dashboard_url}}<{{.}}>{{/dashboard_url}}'],
    ['a comment', '{{! internal note }}{{tier}}'],
    ['changed delimiters', '{{=<% %>=}}<% account.name %>'],
    ['an unescaped variable in text', '{{{rule.guidance}}} {{&rule.guidance}}'],
  ])('accepts %s', (_name, source) => {
    expect(lintTemplate(source, { html: false })).toEqual([]);
  });

  it.each([
    [
      'a misspelt variable, with a hint',
      'Hi {{acount.name}}',
      false,
      3,
      'unknown template variable "acount.name" (did you mean account.name?)',
    ],
    ['a name unknown inside a section', '{{#signal}}{{nme}}{{/signal}}', false, 11, 'unknown template variable "nme"'],
    ['a relative name outside its section', 'x {{title}}', false, 2, 'unknown template variable "title"'],
    ['a section on an unknown object', '{{#ticket}}x{{/ticket}}', false, 0, 'unknown template variable "ticket"'],
    ['the current item outside a section', 'x {{.}}', false, 2, 'unknown template variable "."'],
    ['a partial', 'x {{> footer}}', false, 2, 'partials are not supported ({{>footer}})'],
    [
      'triple mustache in html',
      '<b>{{{signal.title}}}</b>',
      true,
      3,
      'unescaped variable "signal.title" is not allowed in html templates (use {{signal.title}})',
    ],
    ['an unclosed section, at its opening tag', 'a {{#csm.name}} b', false, 2, 'invalid mustache: unclosed section "csm.name"'],
    ['an unopened section', 'a {{/csm.name}}', false, 2, 'invalid mustache: unopened section "csm.name"'],
    ['an unclosed tag', 'a {{tier', false, 8, 'invalid mustache: unclosed tag'],
  ])('rejects %s', (_name, source, html, offset, message) => {
    expect(lintTemplate(source, { html })).toEqual([{ offset, message }]);
  });

  it('reports every problem of a template, in order', () => {
    expect(lintTemplate('{{a}} {{tier}} {{b}}', { html: false }).map((p) => p.offset)).toEqual([0, 15]);
  });
});

describe('suggestions', () => {
  it.each([
    ['firstResponse', ['ack', 'first_response', 'resolve'], 'first_response'],
    ['resolve_bellow', ['resolve_below', 'resolve_after_points'], 'resolve_below'],
    ['selfserve', ['strategic', 'self-serve'], 'self-serve'],
    ['completely_different', ['ack', 'resolve'], undefined],
  ])('suggests for %s', (word, candidates, hint) => {
    expect(closest(word, candidates)).toBe(hint);
  });

  it('finds the allowed keys at a path through lists and transforms', () => {
    expect(allowedKeysAt(tiersFileSchema, ['tiers', 0, 'slo']).sort()).toEqual(['ack', 'first_response', 'resolve']);
    expect(allowedKeysAt(tiersFileSchema, [])).toEqual(['tiers']);
    expect(allowedKeysAt(tiersFileSchema, ['nope'])).toEqual([]);
  });
});

describe('default templates', () => {
  const templates = loadRules(DEFAULT_RULES).templates;
  const render = (source: string, view: object, html: boolean) =>
    Mustache.render(source, view, {}, html ? { escape: Mustache.escape } : { escape: (v: unknown) => String(v) });

  it.each(ADVISORY_KINDS)('%s renders every part with the account and the problem named', (kind) => {
    const t = templates[kind];
    for (const [part, source] of Object.entries(t)) {
      const out = render(source, SAMPLE, part === 'html');
      expect(out, `${kind}.${part}`).not.toMatch(/\{\{|\}\}/);
      if (part !== 'subject' || kind !== 'technical_advisory') expect(out, `${kind}.${part}`).toContain(SAMPLE.signal.title);
    }
    expect(render(t.subject, SAMPLE, false)).not.toContain('\n');
    expect(render(t.html, SAMPLE, true)).toMatch(/^<!doctype html>/);
  });

  it('csm alert says what, since when, how far from baseline, the next step and the runbook', () => {
    const text = render(templates.csm_alert.text, SAMPLE, false);
    for (const v of [
      SAMPLE.signal.onset,
      SAMPLE.signal.expected,
      SAMPLE.signal.observed,
      '+209%',
      SAMPLE.rule.next_step,
      SAMPLE.rule.runbook_url,
      SAMPLE.dashboard_url,
    ])
      expect(text).toContain(v);
    expect(text.startsWith('Hi Dana Whitfield,')).toBe(true);
    const noCsm = render(templates.csm_alert.text, { ...SAMPLE, csm: { name: '', email: '' }, dashboard_url: '' }, false);
    expect(noCsm.startsWith('Hello,')).toBe(true);
    expect(noCsm).not.toContain('Account dashboard');
  });

  it('technical advisory gives metric, baseline vs observed, onset, component and runbook', () => {
    for (const part of ['text', 'html'] as const) {
      const out = render(templates.technical_advisory[part], SAMPLE, part === 'html');
      for (const v of [SAMPLE.signal.metric, SAMPLE.signal.expected, SAMPLE.signal.observed, SAMPLE.signal.onset, SAMPLE.rule.component])
        expect(out, part).toContain(v);
      expect(out).toContain(part === 'html' ? Mustache.escape(SAMPLE.rule.runbook_url) : SAMPLE.rule.runbook_url);
    }
  });

  it('preventive advisory gives guidance and the guide link without internal names', () => {
    for (const part of ['subject', 'text', 'html'] as const) {
      const out = render(templates.preventive_advisory[part], SAMPLE, part === 'html');
      for (const internal of [
        SAMPLE.signal.metric,
        SAMPLE.tier,
        SAMPLE.rule.name,
        SAMPLE.rule.component,
        SAMPLE.rule.next_step,
        SAMPLE.signal.score,
        SAMPLE.signal.id,
      ])
        expect(out, `${part} shows ${internal}`).not.toContain(internal);
    }
    expect(render(templates.preventive_advisory.text, SAMPLE, false)).toContain(SAMPLE.rule.guidance);
    expect(render(templates.preventive_advisory.text, SAMPLE, false)).toContain(SAMPLE.rule.runbook_url);
  });

  it('resolution note gives onset and resolution time', () => {
    const text = render(templates.resolution_note.text, SAMPLE, false);
    expect(text).toContain(SAMPLE.signal.onset);
    expect(text).toContain(SAMPLE.resolved_at);
  });

  it('html escapes customer-controlled values', () => {
    const hostile = { ...SAMPLE, account: { ...SAMPLE.account, name: '<script>x</script>' } };
    for (const kind of ADVISORY_KINDS) expect(render(templates[kind].html, hostile, true)).not.toContain('<script>');
  });
});
