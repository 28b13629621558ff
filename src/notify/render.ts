/**
 * Renders advisory email templates with Mustache. The html part is HTML-escaped; the subject and
 * the text part are not (escaping there would show `&amp;` to the reader). The subject is
 * collapsed to one line so a value with a line break cannot split the header.
 */
import Mustache from 'mustache';

/** An email template: three Mustache templates over the same view. */
export interface EmailTemplate {
  subject: string;
  text: string;
  html: string;
}

/** The rendered parts of an email. */
export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const PARTS = ['subject', 'text', 'html'] as const;

/** Leaves a value as it is (as a string): the escape function of the plain-text parts. */
const noEscape = (value: unknown): string => String(value);

/**
 * Renders the three parts of `template` against `view`. Missing variables render empty;
 * sections and inverted sections work as in Mustache. Throws when a part is not a valid
 * Mustache template (the message names the part); {@link checkTemplate} finds that beforehand.
 */
export function renderTemplate(template: EmailTemplate, view: Record<string, unknown>): RenderedEmail {
  const out: RenderedEmail = { subject: '', text: '', html: '' };
  for (const part of PARTS) {
    try {
      out[part] = Mustache.render(template[part], view, {}, part === 'html' ? { escape: Mustache.escape } : { escape: noEscape });
    } catch (cause) {
      throw new Error(`invalid email template (${part}): ${describe(cause)}`, { cause });
    }
  }
  out.subject = oneLine(out.subject);
  return out;
}

/**
 * Parses every part of `template` without rendering it; returns one message per broken part
 * (empty when the template is usable). For config checks at start-up.
 */
export function checkTemplate(template: EmailTemplate): string[] {
  const problems: string[] = [];
  for (const part of PARTS) {
    try {
      Mustache.parse(template[part]);
    } catch (cause) {
      problems.push(`${part}: ${describe(cause)}`);
    }
  }
  return problems;
}

/** Collapses every run of whitespace (line breaks included) to one space and trims. */
function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Plain text as an HTML body: escaped and kept preformatted (for emails with no template). */
export function preformattedHtml(text: string): string {
  return `<pre style="font-family:monospace">${Mustache.escape(text)}</pre>`;
}
