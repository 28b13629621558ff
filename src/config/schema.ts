/**
 * Strict zod schemas for the files of a rules folder, plus the defaults and the list of template
 * variables. Each schema reads the snake_case YAML shape (unknown keys are errors), checks what can
 * be checked inside one item (threshold order, one of metric/ratio, SLO order), and transforms the
 * result into the camelCase types of `types.ts`, with durations in milliseconds and every default
 * filled in from `DEFAULTS` - the one place defaults live. Checks that span items or files
 * (unique names, tier names in routing and accounts, template variables) live in `load-rules.ts`.
 */
import Mustache from 'mustache';
import * as z from 'zod';
import type { ActionKind, Contact, Domain, Priority, Severity } from '../domain/types.ts';
import { ACCOUNT_ID_RULE, isValidAccountId } from '../domain/account-id.ts';
import { isValidTimeZone } from '../domain/timezone.ts';
import { CRITICALITIES, DOMAINS } from '../domain/types.ts';
import { DURATION_HINT, parseDuration } from './duration.ts';
import type {
  AccountSeed,
  EscalationStep,
  LimitSpec,
  QueueSpec,
  RoutingConfig,
  RuleSpec,
  SeverityThresholds,
  TemplateSpec,
  TierCriteria,
  TierPolicy,
  TierSlo,
  TierSpec,
  TiersConfig,
} from './types.ts';

/** Every default of the rules format. Nothing else in the code base invents a default for a rules key. */
export const DEFAULTS = Object.freeze({
  /** tier criteria: one listed criterion is enough */
  criteriaMatch: 'any' as const,
  /** tier policy: tell advisory recipients when the signal clears */
  resolutionNote: true,
  /** tier policy: no second advisory for the same account x rule within 6h (event time) */
  cooldownMs: 6 * 3_600_000,
  detector: 'combined',
  direction: 'both',
  severity: Object.freeze({ warning: 0.6, critical: 0.85 }),
  openAfterPoints: 3,
  resolveBelow: 0.3,
  resolveAfterPoints: 5,
  /** ratio rules: ignore points whose denominator is below this (too few requests to mean anything) */
  minDenominator: 20,
  businessCriticalRaise: 1,
  /** seed accounts */
  criticality: 'medium',
  /** a rule's weight in the account health score */
  ruleWeight: 1,
  /** limit forecasts: crossing from below */
  limitWhen: 'above' as const,
  /** limit forecasts are critical when the crossing is within this fraction of the horizon */
  limitCriticalFraction: 0.25,
});

/** Every action a tier policy may name. */
export const ACTION_KINDS = ['csm_alert', 'preventive_advisory', 'technical_advisory', 'ticket'] as const satisfies readonly ActionKind[];

export const PRIORITIES = ['P1', 'P2', 'P3', 'P4'] as const satisfies readonly Priority[];

/**
 * The variables the advise stage fills when it renders a template (see `advise/view.ts`), as dotted
 * mustache names. Templates may use only these; inside a section such as `{{#signal}}`, `{{title}}`
 * resolves to `signal.title`. `TemplateView` is the matching object shape and says what each holds.
 */
export const TEMPLATE_VARIABLES = [
  'account.id',
  'account.name',
  'account.region',
  'tier',
  'signal.id',
  'signal.title',
  'signal.summary',
  'signal.metric',
  'signal.domain',
  'signal.severity',
  'signal.direction',
  'signal.onset',
  'signal.expected',
  'signal.observed',
  'signal.deviation_pct',
  'signal.score',
  'rule.name',
  'rule.component',
  'rule.runbook_url',
  'rule.guidance',
  'rule.next_step',
  'csm.name',
  'csm.email',
  'decided_at',
  'resolved_at',
  'dashboard_url',
  'forecast.crossing',
  'forecast.in',
  'forecast.interval',
  'forecast.limit',
  'health.score',
  'health.top',
] as const;

/** One name of `TEMPLATE_VARIABLES`. */
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];

/**
 * The view object a template is rendered with. Every value is a ready-to-print string; a value that
 * is unknown is the empty string, so templates guard optional parts with sections
 * (`{{#csm.name}}...{{/csm.name}}`). Subjects and text bodies should be rendered without HTML
 * escaping; html bodies with mustache's default escaping (html templates may not use `{{{x}}}`).
 */
export interface TemplateView {
  account: {
    id: string;
    name: string;
    /** '' when unknown */
    region: string;
  };
  /** tier name at the time of the decision */
  tier: string;
  signal: {
    id: string;
    /** the rule's customer-safe one-line title */
    title: string;
    /** the signal's one-line summary */
    summary: string;
    /** the watched series: a metric or `numerator/denominator` */
    metric: string;
    domain: Domain;
    severity: Severity;
    direction: 'up' | 'down' | 'none';
    /** event time the anomaly started, ISO 8601 UTC */
    onset: string;
    /** the baseline value, formatted for people (e.g. `1,204`) */
    expected: string;
    /** the observed value, formatted */
    observed: string;
    /** signed percent from baseline with the sign and %, e.g. `+42%`; '' when the baseline is ~0 */
    deviation_pct: string;
    /** peak anomaly score, two decimals */
    score: string;
  };
  rule: { name: string; component: string; runbook_url: string; guidance: string; next_step: string };
  /** the account's customer success manager; empty strings when there is none */
  csm: { name: string; email: string };
  /** event time of the decision, ISO 8601 UTC */
  decided_at: string;
  /** event time the signal resolved, ISO 8601 UTC; '' while open */
  resolved_at: string;
  /** link to the account's dashboard; '' when not configured */
  dashboard_url: string;
  /** the limit forecast of the signal's series; every field '' when there is none */
  forecast: {
    /** predicted crossing time, e.g. `2024-05-08 14:00 UTC` */
    crossing: string;
    /** time from the decision to the crossing, e.g. `~3 days`, `~5 hours` */
    in: string;
    /** the interval, e.g. `2024-05-08 02:00 - 2024-05-09 01:00 UTC` */
    interval: string;
    /** the limit, formatted (e.g. `1`, `1,500`) */
    limit: string;
  };
  /** the account's health when the decision was made; '' when unknown */
  health: {
    /** 0..100, rounded */
    score: string;
    /** one line: the top contributors, e.g. `api_errors/api_requests 4.1x baseline since 09:20 UTC; ...` */
    top: string;
  };
}

const KNOWN_VARIABLES: ReadonlySet<string> = new Set(TEMPLATE_VARIABLES);
/** object names a section may open (`{{#signal}}`), besides the leaf variables */
const KNOWN_OBJECTS: ReadonlySet<string> = new Set(
  TEMPLATE_VARIABLES.filter((v) => v.includes('.')).map((v) => v.slice(0, v.indexOf('.'))),
);

// ---------------------------------------------------------------------------------------------
// Messages

/** A short, quoted rendering of a YAML value for messages. */
export function showValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

const lowerFirst = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);

/** What a zod type name is called in messages. */
const TYPE_NAMES: Record<string, string> = { object: 'a mapping', array: 'a list', record: 'a mapping' };

/**
 * The error map used when parsing rules files: short lower-case messages in the words of the YAML
 * file rather than zod's. Returns undefined to keep zod's own message (lower-cased by the caller).
 */
export function rulesErrorMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'missing required key';
      return `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, got ${showValue(issue.input)}`;
    case 'invalid_value':
      if (issue.input === undefined) return 'missing required key';
      return `invalid value ${showValue(issue.input)} (expected one of ${issue.values.map(String).join(', ')})`;
    case 'too_small':
      if (issue.origin === 'array') return `needs at least ${String(issue.minimum)} item(s)`;
      if (issue.origin === 'string') return 'must not be empty';
      return `must be ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}, got ${showValue(issue.input)}`;
    case 'too_big':
      return `must be ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}, got ${showValue(issue.input)}`;
    case 'invalid_format':
      return `invalid ${issue.format} ${showValue(issue.input)}`;
    default:
      return undefined;
  }
}

/** Lower-cases a zod message that the error map left alone. */
export function normaliseMessage(message: string): string {
  return lowerFirst(message);
}

// ---------------------------------------------------------------------------------------------
// Building blocks

const NAME_RE = /^[a-z0-9][a-z0-9_-]*$/;
const METRIC_RE = /^[A-Za-z_:][A-Za-z0-9_:.]*$/;
const EMAIL_RE = /^[^\s@<>",;]+@[^\s@<>",;]+\.[^\s@<>",;]+$/;

/** A tier, rule or queue name: lower-case letters, digits, `-` and `_`. */
const nameSchema = z
  .string()
  .regex(NAME_RE, { error: (i) => `invalid name ${showValue(i.input)} (use lower-case letters, digits, - and _)` });

const metricSchema = z
  .string()
  .regex(METRIC_RE, { error: (i) => `invalid metric name ${showValue(i.input)} (letters, digits, _, : and .)` });

const text = z.string().trim().min(1);

const emailSchema = z.string().regex(EMAIL_RE, { error: (i) => `invalid email address ${showValue(i.input)}` });

const contactSchema = z.strictObject({ name: text, email: emailSchema }).transform((c): Contact => ({ name: c.name, email: c.email }));

const urlSchema = z.string().refine(
  (s) => {
    if (!URL.canParse(s)) return false;
    const protocol = new URL(s).protocol;
    return protocol === 'https:' || protocol === 'http:';
  },
  { error: (i) => `invalid url ${showValue(i.input)} (expected http:// or https://)` },
);

/** A duration string such as `15m` or `1h30m`, parsed to milliseconds. Bare numbers are rejected. */
export const durationSchema = z
  .string({
    error: (i) => (i.input === undefined ? 'missing required key' : `invalid duration ${showValue(i.input)} (${DURATION_HINT})`),
  })
  .transform((s, ctx) => {
    try {
      return parseDuration(s);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message, input: s });
      return z.NEVER;
    }
  });

const nonNegative = z.number().min(0);
const count = z.number().int().min(1);
/** An anomaly-score threshold, in (0, 1]. */
const score = z.number().gt(0).lte(1);

const actionSchema = z.enum(ACTION_KINDS, {
  error: (i) => `unknown action ${showValue(i.input)} (expected one of ${ACTION_KINDS.join(', ')})`,
});

const actionList = z.array(actionSchema).superRefine((list, ctx) => {
  list.forEach((a, i) => {
    if (list.indexOf(a) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `duplicate action "${a}"` });
  });
});

/** Adds the optional keys whose value is defined, so exactOptionalPropertyTypes holds. */
function defined<T extends object>(obj: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

// ---------------------------------------------------------------------------------------------
// tiers.yaml

const criteriaSchema = z
  .strictObject({
    min_contract_value_usd: nonNegative.optional(),
    min_monthly_usage: nonNegative.optional(),
    min_criticality: z.enum(CRITICALITIES).optional(),
    strategic: z.boolean().optional(),
    match: z.enum(['any', 'all']).optional(),
  })
  .transform((c): TierCriteria => ({
    ...defined({
      minContractValueUsd: c.min_contract_value_usd,
      minMonthlyUsage: c.min_monthly_usage,
      minCriticality: c.min_criticality,
      strategic: c.strategic,
    }),
    match: c.match ?? DEFAULTS.criteriaMatch,
  }));

const sloSchema = z
  .strictObject({ ack: durationSchema, first_response: durationSchema, resolve: durationSchema })
  .superRefine((s, ctx) => {
    if (s.first_response < s.ack)
      ctx.addIssue({ code: 'custom', path: ['first_response'], message: 'first_response must not be shorter than ack' });
    if (s.resolve < s.first_response)
      ctx.addIssue({ code: 'custom', path: ['resolve'], message: 'resolve must not be shorter than first_response' });
  })
  .transform((s): TierSlo => ({ ackMs: s.ack, firstResponseMs: s.first_response, resolveMs: s.resolve }));

const escalationSchema = z
  .array(
    z
      .strictObject({ after: durationSchema, notify: emailSchema })
      .transform((e): EscalationStep => ({ afterMs: e.after, notify: e.notify })),
  )
  .superRefine((steps, ctx) => {
    for (let i = 1; i < steps.length; i++) {
      const prev = steps[i - 1];
      const step = steps[i];
      if (prev && step && step.afterMs <= prev.afterMs)
        ctx.addIssue({
          code: 'custom',
          path: [i, 'after'],
          message: 'escalation steps must be in increasing order of after',
        });
    }
  });

const policySchema = z
  .strictObject({
    actions: z.strictObject({
      info: actionList.optional(),
      warning: actionList.optional(),
      critical: actionList.optional(),
    }),
    resolution_note: z.boolean().optional(),
    cooldown: durationSchema.optional(),
    escalation: escalationSchema.optional(),
  })
  .transform((p): TierPolicy => ({
    actions: { info: p.actions.info ?? [], warning: p.actions.warning ?? [], critical: p.actions.critical ?? [] },
    resolutionNote: p.resolution_note ?? DEFAULTS.resolutionNote,
    cooldownMs: p.cooldown ?? DEFAULTS.cooldownMs,
    escalation: p.escalation ?? [],
  }));

const tierSchema = z.strictObject({
  name: nameSchema,
  description: z.string().optional(),
  /** no criteria: the tier is reached only by override, or as the fallback when it is last */
  criteria: criteriaSchema.optional(),
  slo: sloSchema,
  policy: policySchema,
});

/** tiers.yaml: `tiers:` - an ordered list, highest-value first; the last one is the fallback. */
export const tiersFileSchema = z.strictObject({ tiers: z.array(tierSchema).min(1) }).transform((f): TiersConfig => ({
  tiers: f.tiers.map((t, rank): TierSpec => ({
    name: t.name,
    rank,
    description: t.description ?? '',
    criteria: t.criteria ?? { match: DEFAULTS.criteriaMatch },
    slo: t.slo,
    policy: t.policy,
  })),
}));

// ---------------------------------------------------------------------------------------------
// rules.yaml

const ratioSchema = z.string().transform((s, ctx) => {
  const parts = s.split('/').map((p) => p.trim());
  const [numerator = '', denominator = ''] = parts;
  if (parts.length !== 2 || !METRIC_RE.test(numerator) || !METRIC_RE.test(denominator)) {
    ctx.addIssue({
      code: 'custom',
      message: `invalid ratio ${showValue(s)} (expected numerator/denominator, e.g. api_errors/api_requests)`,
    });
    return z.NEVER;
  }
  if (numerator === denominator) {
    ctx.addIssue({ code: 'custom', message: `ratio ${showValue(s)} divides a metric by itself` });
    return z.NEVER;
  }
  return { numerator, denominator };
});

/** `limit: { value: 1.0, horizon: 7d, when: above, critical_within: 1d }` */
const limitSchema = z
  .strictObject({
    value: z.number(),
    horizon: durationSchema,
    when: z.enum(['above', 'below']).optional(),
    critical_within: durationSchema.optional(),
  })
  .superRefine((l, ctx) => {
    if (!(l.horizon > 0)) ctx.addIssue({ code: 'custom', path: ['horizon'], message: 'horizon must be longer than 0' });
    if (l.critical_within !== undefined && l.critical_within >= l.horizon)
      ctx.addIssue({ code: 'custom', path: ['critical_within'], message: 'critical_within must be shorter than horizon' });
  })
  .transform((l): LimitSpec => ({
    value: l.value,
    when: l.when ?? DEFAULTS.limitWhen,
    horizonMs: l.horizon,
    criticalWithinMs: l.critical_within ?? Math.round(l.horizon * DEFAULTS.limitCriticalFraction),
  }));

const ruleSchema = z
  .strictObject({
    name: nameSchema,
    description: z.string().optional(),
    metric: metricSchema.optional(),
    ratio: ratioSchema.optional(),
    min_denominator: nonNegative.optional(),
    min_numerator: nonNegative.optional(),
    detector: z.enum(['seasonal', 'drift', 'combined']).optional(),
    direction: z.enum(['up', 'down', 'both']).optional(),
    domain: z.enum(DOMAINS),
    severity: z.strictObject({ info: score.optional(), warning: score, critical: score }).optional(),
    open_after_points: count.optional(),
    resolve_below: z.number().min(0).lt(1).optional(),
    resolve_after_points: count.optional(),
    component: text,
    runbook_url: urlSchema,
    title: text,
    guidance: text,
    next_step: text,
    min_value: z.number().optional(),
    sensitivity_sigmas: z.number().min(1).max(10).optional(),
    limit: limitSchema.optional(),
    weight: z.number().min(0).max(1).optional(),
    tier_weights: z.record(z.string(), z.number().min(0).max(1)).optional(),
  })
  .superRefine((r, ctx) => {
    if (r.metric !== undefined && r.ratio !== undefined)
      ctx.addIssue({ code: 'custom', path: ['ratio'], message: 'a rule has exactly one of metric or ratio, not both' });
    if (r.metric === undefined && r.ratio === undefined)
      ctx.addIssue({ code: 'custom', path: [], message: 'a rule needs exactly one of metric or ratio' });
    if (r.min_denominator !== undefined && r.ratio === undefined)
      ctx.addIssue({ code: 'custom', path: ['min_denominator'], message: 'min_denominator only applies to ratio rules' });
    if (r.min_numerator !== undefined && r.ratio === undefined)
      ctx.addIssue({ code: 'custom', path: ['min_numerator'], message: 'min_numerator only applies to ratio rules' });

    const sev = r.severity ?? DEFAULTS.severity;
    const info = r.severity?.info;
    if (info !== undefined && info >= sev.warning)
      ctx.addIssue({
        code: 'custom',
        path: ['severity', 'info'],
        message: `thresholds out of order: info ${info} must be below warning ${sev.warning}`,
      });
    if (sev.warning >= sev.critical)
      ctx.addIssue({
        code: 'custom',
        path: ['severity', 'warning'],
        message: `thresholds out of order: warning ${sev.warning} must be below critical ${sev.critical}`,
      });
    const lowest = Math.min(info ?? 1, sev.warning, sev.critical);
    const resolveBelow = r.resolve_below ?? DEFAULTS.resolveBelow;
    if (resolveBelow >= lowest)
      ctx.addIssue({
        code: 'custom',
        path: ['resolve_below'],
        message: `resolve_below ${resolveBelow}${r.resolve_below === undefined ? ' (the default)' : ''} must be below the lowest threshold ${lowest}`,
      });
  })
  .transform((r): RuleSpec => {
    const severity: SeverityThresholds = r.severity
      ? { ...defined({ info: r.severity.info }), warning: r.severity.warning, critical: r.severity.critical }
      : { ...DEFAULTS.severity };
    const ratio = r.ratio && {
      numerator: r.ratio.numerator,
      denominator: r.ratio.denominator,
      minDenominator: r.min_denominator ?? DEFAULTS.minDenominator,
      ...defined({ minNumerator: r.min_numerator }),
    };
    return {
      name: r.name,
      description: r.description ?? '',
      series: ratio ? `${ratio.numerator}/${ratio.denominator}` : (r.metric ?? ''),
      ...defined({
        metric: r.metric,
        ratio,
        minValue: r.min_value,
        sensitivitySigmas: r.sensitivity_sigmas,
        limit: r.limit,
        tierWeights: r.tier_weights,
      }),
      weight: r.weight ?? DEFAULTS.ruleWeight,
      detector: r.detector ?? DEFAULTS.detector,
      direction: r.direction ?? DEFAULTS.direction,
      domain: r.domain,
      severity,
      openAfterPoints: r.open_after_points ?? DEFAULTS.openAfterPoints,
      resolveBelow: r.resolve_below ?? DEFAULTS.resolveBelow,
      resolveAfterPoints: r.resolve_after_points ?? DEFAULTS.resolveAfterPoints,
      component: r.component,
      runbookUrl: r.runbook_url,
      title: r.title,
      guidance: r.guidance,
      nextStep: r.next_step,
    };
  });

/** rules.yaml: `rules:` - the signal rules. */
export const rulesFileSchema = z.strictObject({ rules: z.array(ruleSchema).min(1) }).transform((f) => ({ rules: f.rules }));

// ---------------------------------------------------------------------------------------------
// routing.yaml

const queueSchema = z
  .strictObject({ queue: nameSchema, email: emailSchema.optional() })
  .transform((q): QueueSpec => ({ queue: q.queue, ...defined({ email: q.email }) }));

const priorityEnum = z.enum(PRIORITIES, {
  error: (i) => `invalid priority ${showValue(i.input)} (expected one of ${PRIORITIES.join(', ')})`,
});
/** tier name -> priority; which tier names are allowed is checked against tiers.yaml by the loader */
const priorityRow = z.record(z.string(), priorityEnum);

/** routing.yaml: queues per domain, the severity x tier priority matrix and the business-critical raise. */
export const routingFileSchema = z
  .strictObject({
    queues: z.strictObject({
      security: queueSchema,
      performance: queueSchema,
      integrations: queueSchema,
      data: queueSchema,
    } satisfies Record<Domain, unknown>),
    priority: z.strictObject({ info: priorityRow, warning: priorityRow, critical: priorityRow } satisfies Record<Severity, unknown>),
    business_critical_raise: z.number().int().min(0).max(3).optional(),
  })
  .transform((f): RoutingConfig => ({
    queues: f.queues,
    priority: f.priority,
    businessCriticalRaise: f.business_critical_raise ?? DEFAULTS.businessCriticalRaise,
  }));

// ---------------------------------------------------------------------------------------------
// templates/<kind>.yaml

/** A template string; unquoted `{{x}}` at the start of a YAML value parses as a mapping, hence the hint. */
const templateText = z
  .string({
    error: (i) =>
      i.input === undefined
        ? 'missing required key'
        : `expected a template string, got ${showValue(i.input)} (quote a template that starts with {{ or [)`,
  })
  .trim()
  .min(1);

/** templates/<kind>.yaml: mustache templates for the subject, plain-text body and html body. */
export const templateFileSchema = z
  .strictObject({
    subject: templateText.refine((s) => !/[\r\n]/.test(s), { error: 'subject must be a single line' }),
    text: templateText,
    html: templateText,
  })
  .transform((t): TemplateSpec => ({ subject: t.subject.trim(), text: t.text, html: t.html }));

/** A problem found in one template, at a character offset of the template source. */
export interface TemplateProblem {
  offset: number;
  message: string;
}

type MustacheToken = [type: string, value: string, start: number, end: number, children?: MustacheToken[]];

/**
 * Checks one mustache template: it must parse, reference only `TEMPLATE_VARIABLES` (or the objects
 * they belong to, as sections), use no partials, and - in html - no unescaped `{{{x}}}`/`{{&x}}`.
 */
export function lintTemplate(source: string, options: { html: boolean }): TemplateProblem[] {
  let tokens: MustacheToken[];
  try {
    tokens = Mustache.parse(source) as unknown as MustacheToken[];
  } catch (err) {
    const message = (err as Error).message;
    const at = / at (\d+)$/.exec(message);
    // mustache reports an unclosed section at the end of the template; its opening tag is more use
    const unclosed = /^Unclosed section "(.*)"/.exec(message)?.[1];
    const opening = unclosed === undefined ? -1 : Math.max(source.lastIndexOf(`{{#${unclosed}`), source.lastIndexOf(`{{^${unclosed}`));
    return [
      {
        offset: opening >= 0 ? opening : at ? Number(at[1]) : 0,
        message: `invalid mustache: ${lowerFirst(at ? message.slice(0, at.index) : message)}`,
      },
    ];
  }
  const problems: TemplateProblem[] = [];
  const resolves = (name: string, sections: readonly string[], allowObjects: boolean): boolean => {
    const known = (n: string) => KNOWN_VARIABLES.has(n) || (allowObjects && KNOWN_OBJECTS.has(n));
    if (name === '.') return sections.length > 0;
    // mustache looks a name up in each enclosing section's context, then in the root view
    return known(name) || sections.some((s) => known(`${s}.${name}`));
  };
  const walk = (list: readonly MustacheToken[], sections: readonly string[]): void => {
    for (const [type, value, start, , children] of list) {
      switch (type) {
        case 'name':
        case '&':
          if (!resolves(value, sections, false)) problems.push({ offset: start, message: unknownVariable(value) });
          else if (type === '&' && options.html)
            problems.push({
              offset: start,
              message: `unescaped variable "${value}" is not allowed in html templates (use {{${value}}})`,
            });
          break;
        case '#':
        case '^':
          if (!resolves(value, sections, true)) problems.push({ offset: start, message: unknownVariable(value) });
          walk(children ?? [], [...sections, ...qualify(value, sections)]);
          break;
        case '>':
          problems.push({ offset: start, message: `partials are not supported ({{>${value}}})` });
          break;
        default:
          break;
      }
    }
  };
  walk(tokens, []);
  return problems;
}

/** The full names a section name may stand for, so nested names resolve against them. */
function qualify(name: string, sections: readonly string[]): string[] {
  return [name, ...sections.map((s) => `${s}.${name}`)].filter((n) => KNOWN_OBJECTS.has(n) || KNOWN_VARIABLES.has(n));
}

function unknownVariable(name: string): string {
  const hint = closest(name, TEMPLATE_VARIABLES);
  return `unknown template variable "${name}"${hint ? ` (did you mean ${hint}?)` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// accounts.yaml

const accountSchema = z
  .strictObject({
    id: z.string().refine(isValidAccountId, { error: (i) => `invalid account id ${showValue(i.input)} (${ACCOUNT_ID_RULE})` }),
    name: text,
    contract_value_usd: nonNegative.optional(),
    monthly_usage: nonNegative.optional(),
    criticality: z.enum(CRITICALITIES).optional(),
    strategic: z.boolean().optional(),
    business_critical: z.boolean().optional(),
    tier: z.string().optional(),
    csm: contactSchema.optional(),
    technical_contacts: z.array(contactSchema).optional(),
    business_contacts: z.array(contactSchema).optional(),
    region: z.string().optional(),
    timezone: z
      .string()
      .refine(isValidTimeZone, { error: (i) => `unknown time zone ${showValue(i.input)} (an IANA name such as Europe/Berlin)` })
      .optional(),
  })
  .transform((a): AccountSeed => ({
    id: a.id,
    name: a.name,
    contractValueUsd: a.contract_value_usd ?? 0,
    monthlyUsage: a.monthly_usage ?? 0,
    criticality: a.criticality ?? DEFAULTS.criticality,
    strategic: a.strategic ?? false,
    businessCritical: a.business_critical ?? false,
    ...defined({ tier: a.tier, csm: a.csm, region: a.region, timezone: a.timezone }),
    technicalContacts: a.technical_contacts ?? [],
    businessContacts: a.business_contacts ?? [],
  }));

/** accounts.yaml (optional): `accounts:` - accounts to seed at start. */
export const accountsFileSchema = z.strictObject({ accounts: z.array(accountSchema) }).transform((f) => ({ accounts: f.accounts }));

// ---------------------------------------------------------------------------------------------
// Suggestions

/** The allowed keys of the mapping at `path` inside `schema`, for "did you mean" hints. */
export function allowedKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node: unknown = schema;
  const def = (n: unknown): Record<string, unknown> | undefined =>
    (n as { _zod?: { def?: Record<string, unknown> } } | undefined)?._zod?.def;
  const unwrap = (n: unknown): unknown => {
    for (let d = def(n); d; d = def(n)) {
      if (d.type === 'pipe') n = d.in;
      else if (['optional', 'default', 'nullable', 'prefault', 'readonly', 'catch'].includes(String(d.type))) n = d.innerType;
      else break;
    }
    return n;
  };
  for (const seg of path) {
    node = unwrap(node);
    const d = def(node);
    if (d?.type === 'object') node = (d.shape as Record<string, unknown>)[String(seg)];
    else if (d?.type === 'array') node = d.element;
    else if (d?.type === 'record') node = d.valueType;
    else return [];
  }
  const d = def(unwrap(node));
  return d?.type === 'object' ? Object.keys(d.shape as Record<string, unknown>) : [];
}

/** The candidate nearest to `word` (edit distance, ignoring case and `_`), if it is near enough. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = norm(c) === norm(word) ? 0 : editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.min(3, Math.max(1, Math.floor(word.length / 4))) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}
