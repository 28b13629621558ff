/**
 * The notifier contract: one vitest suite every Notifier implementation passes. Each
 * implementation's test file supplies a harness that creates the notifier and reports what
 * reached the other side (the SMTP server's mailbox, the .eml folder, the memory list).
 * Also holds a small raw-message reader (headers, multipart, quoted-printable, base64,
 * encoded words) so the SMTP and file harnesses can report what they received without mailparser.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Notifier, OutgoingEmail } from './notifier.ts';

/** What a harness saw arrive for one email. */
export interface DeliveredMessage {
  /** envelope recipients (SMTP) or the To addresses (files, memory) */
  recipients: string[];
  subject: string;
  /** plain-text part, line breaks normalised to `\n` */
  text: string;
  /** html part, line breaks normalised to `\n` */
  html: string;
  /** Message-ID header, for channels that produce MIME */
  messageId?: string;
  /** headers by lower-case name (first occurrence), decoded */
  headers: Record<string, string>;
}

/** One notifier under test, with a view of its far side. */
export interface NotifierHarness {
  notifier: Notifier;
  /** true when the channel produces MIME messages (and so a Message-ID header) */
  mime: boolean;
  /** everything delivered so far, oldest first */
  delivered(): Promise<DeliveredMessage[]>;
  /** arranges for the next email to be refused, permanently or transiently; omit when the channel cannot be told */
  failNext?: (kind: 'permanent' | 'transient') => void;
  /** closes the notifier (again) and everything the harness started */
  close(): Promise<void>;
}

/** Registers the contract suite for one implementation; `make` runs before every test. */
export function notifierContract(name: string, make: () => Promise<NotifierHarness> | NotifierHarness): void {
  describe(`notifier contract: ${name}`, () => {
    let h: NotifierHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.close();
    });

    it('delivers recipients, subject, text and html', async () => {
      const mail = email({ to: ['ops@example.com', 'csm@example.com'] });
      expect(await h.notifier.send(mail)).toEqual({ ok: true });
      const got = await h.delivered();
      expect(got).toHaveLength(1);
      const [m] = got;
      expect([...(m?.recipients ?? [])].sort()).toEqual(['csm@example.com', 'ops@example.com']);
      expect(m?.subject).toBe(mail.subject);
      expect(m?.text.trimEnd()).toBe(mail.text);
      expect(m?.html.trimEnd()).toBe(mail.html);
    });

    it('sets the Message-ID from the email id', async ({ skip }) => {
      if (!h.mime) skip();
      await h.notifier.send(email({ id: 'adv-42.x' }));
      const [m] = await h.delivered();
      expect(m?.messageId).toBe('<adv-42.x@forewarn>');
    });

    it('keeps a non-ASCII subject, text and html intact', async () => {
      const mail = email({
        subject: 'Überlast: 95 % — bitte prüfen',
        text: 'Grüße aus Köln 🚦\nZeile zwei',
        html: '<p>Grüße &amp; 🚦</p>',
      });
      expect(await h.notifier.send(mail)).toEqual({ ok: true });
      const [m] = await h.delivered();
      expect(m?.subject).toBe(mail.subject);
      expect(m?.text.trimEnd()).toBe(mail.text);
      expect(m?.html.trimEnd()).toBe(mail.html);
    });

    it('passes custom headers through', async () => {
      await h.notifier.send(email({ headers: { 'X-Forewarn-Kind': 'csm_alert' } }));
      const [m] = await h.delivered();
      expect(m?.headers['x-forewarn-kind']).toBe('csm_alert');
    });

    it('a line break in the subject adds no header and no recipient', async () => {
      await h.notifier.send(email({ to: ['ops@example.com'], subject: 'disk full\r\nBcc: thief@example.com' }));
      const [m] = await h.delivered();
      expect(m?.recipients).toEqual(['ops@example.com']);
      expect(m?.headers.bcc).toBeUndefined();
    });

    it('no recipients => {ok:false, retryable:false}, nothing delivered', async () => {
      const result = await h.notifier.send(email({ to: [] }));
      expect(result).toMatchObject({ ok: false, retryable: false });
      expect(await h.delivered()).toEqual([]);
    });

    it('refused permanently => {ok:false, retryable:false}, nothing delivered', async ({ skip }) => {
      if (!h.failNext) return skip();
      h.failNext('permanent');
      const result = await h.notifier.send(email());
      expect(result).toMatchObject({ ok: false, retryable: false });
      expect(result.ok || result.error.length > 0).toBe(true);
      expect(await h.delivered()).toEqual([]);
    });

    it('refused transiently => retryable, then the retry is delivered', async ({ skip }) => {
      if (!h.failNext) return skip();
      h.failNext('transient');
      expect(await h.notifier.send(email())).toMatchObject({ ok: false, retryable: true });
      expect(await h.delivered()).toEqual([]);
      expect(await h.notifier.send(email())).toEqual({ ok: true });
      expect(await h.delivered()).toHaveLength(1);
    });

    it('closed => send resolves to a retryable failure; close twice is fine', async () => {
      await h.notifier.close();
      await h.notifier.close();
      expect(await h.notifier.send(email())).toMatchObject({ ok: false, retryable: true });
    });
  });
}

/** A test email; fields can be overridden. */
export function email(overrides: Partial<OutgoingEmail> = {}): OutgoingEmail {
  return {
    id: 'adv-1',
    from: 'forewarn@example.com',
    to: ['ops@example.com'],
    subject: 'Error rate rising on acme',
    text: 'Hello,\n.a line that starts with a dot\nError rate is 4x the usual.',
    html: '<p>Hello,</p>\n<p>Error rate is <b>4x</b> the usual.</p>',
    ...overrides,
  };
}

/**
 * Reads a raw RFC 5322 message as far as the contract needs: headers (unfolded, encoded words
 * decoded), the first text/plain and text/html parts (quoted-printable or base64 decoded, in
 * nested multiparts too). `recipients` are taken from the envelope when given, else from To.
 */
export function parseRawMessage(raw: string, envelopeRecipients?: string[]): DeliveredMessage {
  const { headers, body } = splitEntity(raw);
  const parts = { text: undefined as string | undefined, html: undefined as string | undefined };
  collectParts(headers, body, parts);
  const messageId = headers['message-id'];
  return {
    recipients: envelopeRecipients ?? addresses(headers.to ?? ''),
    subject: headers.subject ?? '',
    text: parts.text ?? '',
    html: parts.html ?? '',
    ...(messageId !== undefined ? { messageId } : {}),
    headers,
  };
}

function splitEntity(raw: string): { headers: Record<string, string>; body: string } {
  const m = /\r?\n\r?\n/.exec(raw);
  const head = m ? raw.slice(0, m.index) : raw;
  const body = m ? raw.slice(m.index + m[0].length) : '';
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers[name] ??= decodeWords(line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function collectParts(headers: Record<string, string>, body: string, out: { text?: string | undefined; html?: string | undefined }): void {
  const type = headers['content-type'] ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    const chunks = body.split(`--${boundary}`);
    // chunks[0] is the preamble; the chunk after the closing delimiter starts with "--"
    for (const chunk of chunks.slice(1)) {
      if (chunk.startsWith('--')) break;
      const part = splitEntity(chunk.replace(/^\r?\n/, '').replace(/\r?\n$/, ''));
      collectParts(part.headers, part.body, out);
    }
    return;
  }
  const decoded = decodeBody(body, headers['content-transfer-encoding'] ?? '7bit').replace(/\r\n/g, '\n');
  if (/^text\/plain/i.test(type)) out.text ??= decoded;
  else if (/^text\/html/i.test(type)) out.html ??= decoded;
}

function decodeBody(body: string, encoding: string): string {
  switch (encoding.toLowerCase()) {
    case 'quoted-printable':
      return qpBytes(body.replace(/=\r?\n/g, '')).toString('utf8');
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    default:
      return body;
  }
}

/** `=XX` escapes to bytes, everything else as UTF-8. */
function qpBytes(s: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const hex = s.slice(i + 1, i + 3);
    if (s[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(s[i] ?? '', 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

/** RFC 2047 encoded words (UTF-8, Q or B), whitespace between adjacent ones dropped. */
function decodeWords(value: string): string {
  return value
    .replace(/(\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_all, charset: string, enc: string, text: string) => {
      const bytes = enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : qpBytes(text.replace(/_/g, ' '));
      return new TextDecoder(charset).decode(bytes);
    });
}

/** The bare addresses of an address-list header. */
function addresses(value: string): string[] {
  return value
    .split(',')
    .map((a) => (/<([^>]+)>/.exec(a)?.[1] ?? a).trim())
    .filter((a) => a !== '');
}
