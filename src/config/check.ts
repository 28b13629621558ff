/**
 * `forewarn check [DIR]`: validates a rules folder offline, like `promtool check rules` or
 * `amtool check-config`, and prints a per-file verdict plus a summary. Never throws for bad
 * content; the CLI exits non-zero when `ok` is false.
 */
import { formatIssue } from './errors.ts';
import { inspectRules } from './load-rules.ts';

/** The outcome of checking a rules folder. */
export interface CheckResult {
  ok: boolean;
  /** human-readable report, one line per file and one per issue, ending with a summary line */
  report: string;
}

/**
 * Checks the rules folder `dir` (default `rules`) and reports every issue in every file.
 *
 * Example report:
 * ```
 * rules/tiers.yaml: ok (4 tiers)
 * rules/rules.yaml: 1 issue
 *   rules/rules.yaml:21:16: rules[0].severity.warning: thresholds out of order: warning 0.9 must be below critical 0.85
 * ...
 * failed: 1 issue in 1 file (4 tiers, 6 rules, 4 templates, 6 seed accounts)
 * ```
 */
export function checkRules(dir = 'rules'): CheckResult {
  const result = inspectRules(dir);
  const lines: string[] = [];
  for (const file of result.files) {
    const n = file.issues.length;
    if (n === 0) {
      lines.push(`${file.file}: ok${file.summary ? ` (${file.summary})` : ''}`);
      continue;
    }
    lines.push(`${file.file}: ${plural(n, 'issue')}`);
    for (const issue of file.issues) lines.push(`  ${formatIssue(issue)}`);
  }
  const { tiers, rules, templates, accounts } = result.counts;
  const contents = [plural(tiers, 'tier'), plural(rules, 'rule'), plural(templates, 'template'), plural(accounts, 'seed account')].join(
    ', ',
  );
  const ok = result.issues.length === 0 && result.bundle !== undefined;
  if (ok) {
    lines.push(`ok: ${contents}`);
  } else {
    const badFiles = result.files.filter((f) => f.issues.length > 0).length;
    const n = result.issues.length;
    lines.push(`failed: ${plural(n, 'issue')} in ${plural(badFiles, 'file')} (${contents})`);
  }
  return { ok, report: `${lines.join('\n')}\n` };
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
