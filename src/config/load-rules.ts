/**
 * Loads a rules folder: reads every YAML file (keeping line numbers), validates each against its
 * strict schema, checks the cross-references between files (tier names in routing and accounts,
 * unique names, template variables), and returns one deeply frozen `RulesBundle` - or throws a
 * `ConfigError` listing every issue found in every file, each with file, line, column and key path.
 *
 * Layout of a rules folder:
 *   tiers.yaml  rules.yaml  routing.yaml  templates/<kind>.yaml (one per templated kind)  [accounts.yaml]
 *   [sources.yaml] (pull sources, see `sources-schema.ts`)
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Document, Node as YamlNode } from 'yaml';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, Scalar } from 'yaml';
import type * as z from 'zod';
import { ADVISORY_KINDS, SEVERITIES } from '../domain/types.ts';
import type { TemplatedKind } from '../domain/types.ts';
import type { ConfigIssue } from './errors.ts';
import { ConfigError } from './errors.ts';
import {
  accountsFileSchema,
  allowedKeysAt,
  closest,
  lintTemplate,
  normaliseMessage,
  routingFileSchema,
  rulesErrorMessage,
  rulesFileSchema,
  templateFileSchema,
  tiersFileSchema,
} from './schema.ts';
import { sourcesFileSchema } from './sources-schema.ts';
import type { RulesBundle, TemplateSpec } from './types.ts';

/** The files of a rules folder, relative to it. */
export const RULES_FILES = Object.freeze({
  tiers: 'tiers.yaml',
  rules: 'rules.yaml',
  routing: 'routing.yaml',
  accounts: 'accounts.yaml',
  sources: 'sources.yaml',
  templatesDir: 'templates',
});

/** What was found in one file of a rules folder. */
export interface FileReport {
  /** the file as the loader names it in issues, e.g. `rules/tiers.yaml` */
  file: string;
  issues: ConfigIssue[];
  /** what the file holds when it was read, e.g. `4 tiers` */
  summary?: string;
}

/** The result of validating a rules folder without throwing (used by `loadRules` and `forewarn check`). */
export interface RulesInspection {
  dir: string;
  /** one entry per file looked at, in a stable order */
  files: FileReport[];
  /** every issue, in file order */
  issues: ConfigIssue[];
  /** counts of what could be read, even when there are issues */
  counts: { tiers: number; rules: number; templates: number; accounts: number; sources?: number };
  /** the frozen bundle, present only when there are no issues */
  bundle?: RulesBundle;
}

/**
 * Loads and validates the rules folder `dir`.
 *
 * @returns the deeply frozen bundle
 * @throws ConfigError listing every issue in every file
 */
export function loadRules(dir: string): RulesBundle {
  const result = inspectRules(dir);
  if (!result.bundle) throw new ConfigError(result.issues);
  return result.bundle;
}

/** One parsed YAML file: the document (for positions) and its plain value. */
interface Source {
  file: string;
  report: FileReport;
  doc: Document.Parsed;
  lines: LineCounter;
  text: string;
  /** the plain JS value; undefined when the YAML itself did not parse */
  raw: unknown;
}

/** Validates the rules folder `dir` and reports every issue; never throws for bad content. */
export function inspectRules(dir: string): RulesInspection {
  const files: FileReport[] = [];
  const counts: RulesInspection['counts'] = { tiers: 0, rules: 0, templates: 0, accounts: 0 };
  const fileName = (rel: string) => path.join(dir, rel);
  const finish = (bundle?: RulesBundle): RulesInspection => {
    for (const f of files) f.issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    const issues = files.flatMap((f) => f.issues);
    return { dir, files, issues, counts, ...(bundle && issues.length === 0 ? { bundle } : {}) };
  };

  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    files.push({ file: dir, issues: [{ file: dir, path: '', message: 'rules folder not found' }] });
    return finish();
  }

  const open = (rel: string, optional = false): Source | undefined => {
    const report: FileReport = { file: fileName(rel), issues: [] };
    const full = path.join(dir, rel);
    if (!existsSync(full)) {
      if (!optional) {
        report.issues.push({ file: report.file, path: '', message: 'missing file' });
        files.push(report);
      }
      return undefined;
    }
    files.push(report);
    return readYaml(full, report);
  };

  // --- tiers.yaml
  const tiersSrc = open(RULES_FILES.tiers);
  const tiers = tiersSrc && validate(tiersSrc, tiersFileSchema);
  const rawTiers = listAt(tiersSrc?.raw, 'tiers');
  counts.tiers = rawTiers?.length ?? 0;
  const tierNames = rawTiers && uniqueNames(tiersSrc, rawTiers, 'tiers', 'name', 'tier name');
  if (tiersSrc) tiersSrc.report.summary = plural(counts.tiers, 'tier');

  // --- rules.yaml
  const rulesSrc = open(RULES_FILES.rules);
  const rules = rulesSrc && validate(rulesSrc, rulesFileSchema);
  const rawRules = listAt(rulesSrc?.raw, 'rules');
  counts.rules = rawRules?.length ?? 0;
  if (rawRules) uniqueNames(rulesSrc, rawRules, 'rules', 'name', 'rule name');
  if (rulesSrc && rawRules && tierNames) checkRuleTierWeights(rulesSrc, rawRules, tierNames);
  if (rulesSrc) rulesSrc.report.summary = plural(counts.rules, 'rule');

  // --- routing.yaml
  const routingSrc = open(RULES_FILES.routing);
  const routing = routingSrc && validate(routingSrc, routingFileSchema);
  if (routingSrc && tierNames) checkPriorityMatrix(routingSrc, tierNames);
  const queues = field(routingSrc?.raw, 'queues');
  if (routingSrc && queues !== null && typeof queues === 'object') routingSrc.report.summary = plural(Object.keys(queues).length, 'queue');

  // --- templates/<kind>.yaml
  const templates: Partial<Record<TemplatedKind, TemplateSpec>> = {};
  const templatesDir = path.join(dir, RULES_FILES.templatesDir);
  const kinds: readonly string[] = ADVISORY_KINDS;
  for (const kind of ADVISORY_KINDS) {
    const src = open(path.join(RULES_FILES.templatesDir, `${kind}.yaml`));
    if (!src) continue;
    const spec = validate(src, templateFileSchema);
    checkTemplateVariables(src);
    if (spec) {
      templates[kind] = spec;
      counts.templates++;
    }
  }
  if (existsSync(templatesDir) && statSync(templatesDir).isDirectory()) {
    for (const entry of readdirSync(templatesDir).sort()) {
      const kind = entry.replace(/\.ya?ml$/, '');
      if (kind === entry || (kinds.includes(kind) && entry.endsWith('.yaml'))) continue;
      const hint = closest(kind, kinds);
      const file = fileName(path.join(RULES_FILES.templatesDir, entry));
      const message = kinds.includes(kind)
        ? `template files end in .yaml (rename to ${kind}.yaml)`
        : `unknown template kind "${kind}" (expected ${kinds.map((k) => `${k}.yaml`).join(', ')})${
            hint ? `; did you mean ${hint}.yaml?` : ''
          }`;
      files.push({ file, issues: [{ file, path: '', message }] });
    }
  }

  // --- accounts.yaml (optional)
  const accountsSrc = open(RULES_FILES.accounts, true);
  const accounts = accountsSrc ? validate(accountsSrc, accountsFileSchema) : { accounts: [] };
  const rawAccounts = listAt(accountsSrc?.raw, 'accounts');
  counts.accounts = rawAccounts?.length ?? 0;
  if (accountsSrc && rawAccounts) {
    uniqueNames(accountsSrc, rawAccounts, 'accounts', 'id', 'account id');
    if (tierNames) checkAccountTiers(accountsSrc, rawAccounts, tierNames);
  }
  if (accountsSrc) accountsSrc.report.summary = plural(counts.accounts, 'seed account');

  // --- sources.yaml (optional): pull sources
  const sourcesSrc = open(RULES_FILES.sources, true);
  const sources = sourcesSrc ? validate(sourcesSrc, sourcesFileSchema) : { sources: [] };
  const rawSources = listAt(sourcesSrc?.raw, 'sources');
  if (sourcesSrc && rawSources) {
    uniqueNames(sourcesSrc, rawSources, 'sources', 'name', 'source name');
    counts.sources = rawSources.length;
    const disabled = rawSources.filter((s) => field(s, 'enabled') === false).length;
    sourcesSrc.report.summary = `${plural(rawSources.length, 'source')}${disabled > 0 ? `, ${disabled} disabled` : ''}`;
  }

  // --- stray YAML files at the top level (a misspelt `tier.yaml` would otherwise be silently ignored)
  const known: string[] = [RULES_FILES.tiers, RULES_FILES.rules, RULES_FILES.routing, RULES_FILES.accounts, RULES_FILES.sources];
  for (const entry of readdirSync(dir).sort()) {
    if (!/\.ya?ml$/.test(entry) || known.includes(entry)) continue;
    const hint = closest(entry, known);
    const file = fileName(entry);
    files.push({
      file,
      issues: [{ file, path: '', message: `unknown file (expected ${known.join(', ')})${hint ? `; did you mean ${hint}?` : ''}` }],
    });
  }

  if (!tiers || !rules || !routing || !accounts || !sources || counts.templates !== ADVISORY_KINDS.length) return finish();
  const bundle: RulesBundle = {
    dir: path.resolve(dir),
    tiers,
    rules,
    routing,
    templates: templates as Record<TemplatedKind, TemplateSpec>,
    accounts: accounts.accounts,
    sources: sources.sources,
  };
  return finish(deepFreeze(bundle));
}

// ---------------------------------------------------------------------------------------------
// Reading and schema validation

function readYaml(full: string, report: FileReport): Source {
  const lines = new LineCounter();
  let text = '';
  try {
    text = readFileSync(full, 'utf8');
  } catch (cause) {
    report.issues.push({ file: report.file, path: '', message: `cannot read file: ${(cause as Error).message}` });
  }
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true, merge: true, logLevel: 'error' });
  const src: Source = { file: report.file, report, doc, lines, text, raw: undefined };
  for (const err of [...doc.errors, ...doc.warnings]) {
    const pos = err.linePos?.[0];
    // the yaml message repeats the position and quotes the source; keep its first sentence
    const first = (err.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    report.issues.push({
      file: report.file,
      ...(pos && { line: pos.line, column: pos.col }),
      path: '',
      message: `yaml: ${normaliseMessage(first)}`,
    });
  }
  if (doc.errors.length === 0 && report.issues.length === 0) {
    try {
      src.raw = doc.toJS({ maxAliasCount: 100 });
    } catch (cause) {
      report.issues.push({ file: report.file, path: '', message: `yaml: ${(cause as Error).message}` });
    }
  }
  return src;
}

/** Parses the file's value with `schema`; records every issue at its place; returns the output on success. */
function validate<S extends z.ZodType>(src: Source, schema: S): z.output<S> | undefined {
  if (src.raw === undefined && src.report.issues.length > 0) return undefined;
  if (src.raw === null || src.raw === undefined) {
    const keys = allowedKeysAt(schema, []);
    addIssue(src, [], `empty file (expected a mapping with ${keys.map((k) => `${k}:`).join(', ')})`);
    return undefined;
  }
  const result = schema.safeParse(src.raw ?? null, { error: rulesErrorMessage, reportInput: true });
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    const at = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeysAt(schema, at);
      for (const key of issue.keys) {
        const hint = closest(key, allowed);
        addIssue(src, [...at, key], `unknown key "${key}"${hint ? ` (did you mean ${hint}?)` : ''}`, 'key');
      }
      continue;
    }
    const missing = (issue.code === 'invalid_type' || issue.code === 'invalid_value') && issue.input === undefined;
    if (missing && at.length > 0) {
      // a missing key has no place of its own: point at the mapping that lacks it
      addIssue(src, at, `missing required key "${String(at[at.length - 1])}"`, 'parent');
      continue;
    }
    addIssue(src, at, normaliseMessage(issue.message));
  }
  return undefined;
}

type Segment = string | number;
type Anchor = 'value' | 'key' | 'parent';

function addIssue(src: Source, at: readonly Segment[], message: string, anchor: Anchor = 'value'): void {
  const offset = locate(src.doc, at, anchor);
  const pos = offset === undefined ? undefined : src.lines.linePos(offset);
  src.report.issues.push({
    file: src.file,
    ...(pos && { line: pos.line, column: pos.col }),
    path: formatPath(at),
    message,
  });
}

/** `['tiers', 2, 'slo', 'ack']` -> `tiers[2].slo.ack` */
export function formatPath(at: readonly Segment[]): string {
  let out = '';
  for (const seg of at) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/**
 * The character offset of the node at `at`: its value, its key, or (for a missing key) the mapping
 * that should hold it. Walks as far as the document goes and answers with the deepest node found.
 */
function locate(doc: Document.Parsed, at: readonly Segment[], anchor: Anchor): number | undefined {
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  const steps = anchor === 'parent' ? at.slice(0, -1) : at;
  for (let i = 0; i < steps.length; i++) {
    const seg = steps[i];
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
      if (!pair) return offset;
      const keyStart = rangeStart(pair.key);
      if (i === steps.length - 1 && anchor === 'key') return keyStart ?? offset;
      node = pair.value;
      // `key:` with nothing after it: the key is the best place to point at
      offset = isScalar(node) && node.value === null ? (keyStart ?? offset) : (rangeStart(node) ?? keyStart ?? offset);
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
      if (node === undefined) return offset;
      offset = rangeStart(node) ?? offset;
    } else {
      return offset;
    }
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  return (node as YamlNode | null | undefined)?.range?.[0];
}

// ---------------------------------------------------------------------------------------------
// Cross-reference checks, run on the raw values so one bad item does not hide others' issues

function listAt(raw: unknown, key: string): unknown[] | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const list = (raw as Record<string, unknown>)[key];
  return Array.isArray(list) ? list : undefined;
}

function field(item: unknown, key: string): unknown {
  return item !== null && typeof item === 'object' ? (item as Record<string, unknown>)[key] : undefined;
}

/** Reports duplicates of `items[i][key]`; returns the (string) names in order. */
function uniqueNames(src: Source | undefined, items: readonly unknown[], listKey: string, key: string, what: string): string[] {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const name = field(item, key);
    if (typeof name !== 'string') return;
    const first = seen.get(name);
    if (first === undefined) seen.set(name, i);
    else if (src) addIssue(src, [listKey, i, key], `duplicate ${what} "${name}" (first defined at ${listKey}[${first}])`);
  });
  return [...seen.keys()];
}

/** routing.priority must give a priority for every severity x tier, and name only known tiers. */
function checkPriorityMatrix(src: Source, tierNames: readonly string[]): void {
  const priority = field(src.raw, 'priority');
  if (priority === null || typeof priority !== 'object' || Array.isArray(priority)) return;
  for (const severity of SEVERITIES) {
    const row = (priority as Record<string, unknown>)[severity];
    if (row === null || typeof row !== 'object' || Array.isArray(row)) continue;
    for (const tier of Object.keys(row)) {
      if (tierNames.includes(tier)) continue;
      const hint = closest(tier, tierNames);
      addIssue(
        src,
        ['priority', severity, tier],
        `unknown tier "${tier}" (tiers are ${tierNames.join(', ')})${hint ? `; did you mean ${hint}?` : ''}`,
        'key',
      );
    }
    for (const tier of tierNames) {
      if (!(tier in row)) addIssue(src, ['priority', severity], `missing priority for tier "${tier}"`, 'key');
    }
  }
}

/** A rule's `tier_weights` may name only tiers of tiers.yaml. */
function checkRuleTierWeights(src: Source, rules: readonly unknown[], tierNames: readonly string[]): void {
  rules.forEach((rule, i) => {
    const weights = field(rule, 'tier_weights');
    if (weights === null || typeof weights !== 'object' || Array.isArray(weights)) return;
    for (const tier of Object.keys(weights)) {
      if (tierNames.includes(tier)) continue;
      const hint = closest(tier, tierNames);
      addIssue(
        src,
        ['rules', i, 'tier_weights', tier],
        `unknown tier "${tier}" (tiers are ${tierNames.join(', ')})${hint ? `; did you mean ${hint}?` : ''}`,
        'key',
      );
    }
  });
}

/** An account's explicit `tier` must name a tier of tiers.yaml. */
function checkAccountTiers(src: Source, accounts: readonly unknown[], tierNames: readonly string[]): void {
  accounts.forEach((account, i) => {
    const tier = field(account, 'tier');
    if (typeof tier !== 'string' || tierNames.includes(tier)) return;
    const hint = closest(tier, tierNames);
    addIssue(
      src,
      ['accounts', i, 'tier'],
      `unknown tier "${tier}" (tiers are ${tierNames.join(', ')})${hint ? `; did you mean ${hint}?` : ''}`,
    );
  });
}

/** Every part of a template must parse as mustache and use only known variables. */
function checkTemplateVariables(src: Source): void {
  for (const part of ['subject', 'text', 'html'] as const) {
    const source = field(src.raw, part);
    if (typeof source !== 'string') continue;
    for (const problem of lintTemplate(source, { html: part === 'html' })) {
      const offset = offsetInFile(src, part, source, problem.offset);
      const pos = offset === undefined ? undefined : src.lines.linePos(offset);
      src.report.issues.push({
        file: src.file,
        ...(pos && { line: pos.line, column: pos.col }),
        path: part,
        message: problem.message,
      });
    }
  }
}

/**
 * Maps an offset inside a template string back to the file. Exact for `|` block scalars and
 * single-line plain scalars (the usual ways to write templates); otherwise the start of the value.
 */
function offsetInFile(src: Source, key: string, value: string, offset: number): number | undefined {
  const node = src.doc.get(key, true);
  if (!isScalar(node) || !node.range) return locate(src.doc, [key], 'value');
  const start = node.range[0];
  if (node.type === Scalar.BLOCK_LITERAL) {
    const text = src.text;
    const before = value.slice(0, offset);
    const lineInValue = before.split('\n').length - 1;
    const column = offset - (before.lastIndexOf('\n') + 1);
    // the content starts on the line after the `|` indicator; every content line keeps its place
    let lineStart = text.indexOf('\n', start) + 1;
    for (let i = 0; i < lineInValue && lineStart > 0; i++) lineStart = text.indexOf('\n', lineStart) + 1;
    if (lineStart <= 0) return start;
    const firstContent = text.slice(text.indexOf('\n', start) + 1);
    const indent = /^( *)\S/m.exec(firstContent)?.[1]?.length ?? 0;
    return lineStart + indent + column;
  }
  if (node.type === Scalar.PLAIN && !value.includes('\n')) return start + offset;
  if ((node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE) && !value.includes('\n')) return start + 1 + offset;
  return start;
}

// ---------------------------------------------------------------------------------------------

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** Freezes an object graph in place, so no stage can change the configuration after start. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
