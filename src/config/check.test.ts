import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkRules } from './check.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const DEFAULT_RULES = path.join(root, 'rules');
const MANY_ISSUES = path.join(root, 'test/fixtures/rules-bad/many-issues');

describe('forewarn check', () => {
  it('passes the default rules folder with one ok line per file and a summary', () => {
    const { ok, report } = checkRules(DEFAULT_RULES);
    expect(ok).toBe(true);
    const lines = report
      .trimEnd()
      .split('\n')
      .map((l) => l.replace(`${DEFAULT_RULES}${path.sep}`, 'rules/'));
    expect(lines).toEqual([
      'rules/tiers.yaml: ok (4 tiers)',
      'rules/rules.yaml: ok (6 rules)',
      'rules/routing.yaml: ok (4 queues)',
      'rules/templates/csm_alert.yaml: ok',
      'rules/templates/preventive_advisory.yaml: ok',
      'rules/templates/technical_advisory.yaml: ok',
      'rules/templates/resolution_note.yaml: ok',
      'rules/accounts.yaml: ok (6 seed accounts)',
      'rules/sources.yaml: ok (3 sources, 3 disabled)',
      'ok: 4 tiers, 6 rules, 4 templates, 6 seed accounts',
    ]);
  });

  it('fails a broken folder and lists every issue under its file', () => {
    const { ok, report } = checkRules(MANY_ISSUES);
    expect(ok).toBe(false);
    expect(report.replaceAll(`${MANY_ISSUES}${path.sep}`, 'DIR/')).toBe(
      [
        'DIR/tiers.yaml: 2 issues',
        '  DIR/tiers.yaml:4:17: tiers[0].slo.ack: invalid duration "15 minutes" (use e.g. 15m, 4h, 2d)',
        '  DIR/tiers.yaml:8:7: tiers[0].policy.cooldwon: unknown key "cooldwon" (did you mean cooldown?)',
        'DIR/rules.yaml: 2 issues',
        '  DIR/rules.yaml:4:12: rules[0].ratio: a rule has exactly one of metric or ratio, not both',
        '  DIR/rules.yaml:6:26: rules[0].severity.warning: thresholds out of order: warning 0.9 must be below critical 0.8',
        'DIR/routing.yaml: 1 issue',
        '  DIR/routing.yaml:7:25: priority.critical.silver: unknown tier "silver" (tiers are gold, basic)',
        'DIR/templates/csm_alert.yaml: 1 issue',
        '  DIR/templates/csm_alert.yaml:3:26: text: unknown template variable "signal.started"',
        'DIR/templates/preventive_advisory.yaml: 1 issue',
        '  DIR/templates/preventive_advisory.yaml:5:6: html: invalid mustache: unclosed section "rule.guidance"',
        'DIR/templates/technical_advisory.yaml: ok',
        'DIR/templates/resolution_note.yaml: 1 issue',
        '  DIR/templates/resolution_note.yaml: missing file',
        'failed: 8 issues in 6 files (2 tiers, 1 rule, 3 templates, 0 seed accounts)',
        '',
      ].join('\n'),
    );
  });

  it('fails a folder that does not exist', () => {
    const missing = path.join(root, 'test/fixtures/rules-bad/no-such-folder');
    const { ok, report } = checkRules(missing);
    expect(ok).toBe(false);
    expect(report).toBe(
      `${missing}: 1 issue\n  ${missing}: rules folder not found\nfailed: 1 issue in 1 file (0 tiers, 0 rules, 0 templates, 0 seed accounts)\n`,
    );
  });
});
