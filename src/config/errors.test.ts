import { describe, expect, it } from 'vitest';
import { ConfigError, formatIssue } from './errors.ts';
import type { ConfigIssue } from './errors.ts';

describe('formatIssue', () => {
  it.each<[ConfigIssue, string]>([
    [
      {
        file: 'rules/tiers.yaml',
        line: 14,
        column: 9,
        path: 'tiers[2].slo.ack',
        message: 'invalid duration "15 minutes" (use e.g. 15m, 4h, 2d)',
      },
      'rules/tiers.yaml:14:9: tiers[2].slo.ack: invalid duration "15 minutes" (use e.g. 15m, 4h, 2d)',
    ],
    [{ file: 'rules/tiers.yaml', line: 3, path: 'tiers', message: 'm' }, 'rules/tiers.yaml:3: tiers: m'],
    [{ file: 'rules/templates/csm_alert.yaml', path: '', message: 'missing file' }, 'rules/templates/csm_alert.yaml: missing file'],
    [{ file: 'rules/a.yaml', line: 1, column: 1, path: '', message: 'yaml: bad' }, 'rules/a.yaml:1:1: yaml: bad'],
  ])('formats %j', (issue, text) => {
    expect(formatIssue(issue)).toBe(text);
  });
});

describe('ConfigError', () => {
  const issues: ConfigIssue[] = [
    {
      file: 'rules/tiers.yaml',
      line: 14,
      column: 9,
      path: 'tiers[2].slo.ack',
      message: 'invalid duration "15 minutes" (use e.g. 15m, 4h, 2d)',
    },
    { file: 'rules/rules.yaml', line: 3, column: 5, path: 'rules[0].name', message: 'duplicate rule name "x" (first defined at rules[0])' },
  ];

  it('prints one issue per line from toString', () => {
    expect(new ConfigError(issues).toString()).toBe(
      'rules/tiers.yaml:14:9: tiers[2].slo.ack: invalid duration "15 minutes" (use e.g. 15m, 4h, 2d)\n' +
        'rules/rules.yaml:3:5: rules[0].name: duplicate rule name "x" (first defined at rules[0])',
    );
  });

  it('keeps every issue, frozen, and counts them in the message', () => {
    const err = new ConfigError(issues);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('ConfigError');
    expect(err.issues).toEqual(issues);
    expect(Object.isFrozen(err.issues)).toBe(true);
    expect(err.message.split('\n')[0]).toBe('invalid configuration (2 issues):');
    expect(err.message).toContain('rules/rules.yaml:3:5: rules[0].name');
  });

  it('chains a cause', () => {
    const cause = new Error('boom');
    expect(new ConfigError(issues.slice(0, 1), { cause }).cause).toBe(cause);
  });
});
