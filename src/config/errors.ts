/**
 * The one error class of the configuration stage. A rules folder is validated as a whole and every
 * problem found is reported at once, each naming its file, line, column and the key path inside the
 * file, so a user fixes them all in one go (as with `amtool check-config` or vmalert).
 */

/** One problem in a rules folder. */
export interface ConfigIssue {
  /** the file as the loader was given it, e.g. `rules/tiers.yaml` */
  file: string;
  /** 1-based line, when the problem can be pinned to a place in the file */
  line?: number;
  /** 1-based column */
  column?: number;
  /** key path inside the file, e.g. `tiers[2].slo.ack`; empty for the whole file */
  path: string;
  message: string;
}

/**
 * Formats one issue as `file:line:column: path: message`, leaving out what is unknown, e.g.
 * `rules/tiers.yaml:14:9: tiers[2].slo.ack: invalid duration "15 minutes" (use e.g. 15m, 4h, 2d)`.
 */
export function formatIssue(issue: ConfigIssue): string {
  let where = issue.file;
  if (issue.line !== undefined) {
    where += `:${issue.line}`;
    if (issue.column !== undefined) where += `:${issue.column}`;
  }
  return issue.path ? `${where}: ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}

/** Thrown when a rules folder is invalid; carries every issue found, not just the first. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** every problem found, in file order and, within a file, line order */
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], options?: { cause?: unknown }) {
    const count = issues.length === 1 ? '1 issue' : `${issues.length} issues`;
    super(`invalid configuration (${count}):\n${issues.map(formatIssue).join('\n')}`, options);
    this.issues = Object.freeze([...issues]);
  }

  /** One issue per line, in the `file:line:column: path: message` format. */
  override toString(): string {
    return this.issues.map(formatIssue).join('\n');
  }
}
