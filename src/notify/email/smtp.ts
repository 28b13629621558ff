/**
 * The SMTP notifier: hands each email to an SMTP server (SMTP_URL) with nodemailer. Delivery
 * results are values: a 4xx reply or a broken connection is retryable, a 5xx rejection of the
 * message is not. Also holds what every MIME-producing channel shares: the Message-ID derived
 * from the advisory id and the mapping of an `OutgoingEmail` to nodemailer's mail options.
 */
import nodemailer from 'nodemailer';
import type { SendMailOptions } from 'nodemailer';
import type { Notifier, OutgoingEmail, SendResult } from '../notifier.ts';

/** Options of {@link createSmtpNotifier}. */
export interface SmtpNotifierOptions {
  /**
   * SMTP_URL: `smtp://[user:pass@]host[:port]` (STARTTLS when offered) or `smtps://...` (TLS from
   * the start). User and password are percent-decoded; query parameters such as
   * `?tls.rejectUnauthorized=false` are passed to nodemailer.
   */
  url: string;
  /** sender used when an email has no `from` of its own */
  from: string;
  /** keep connections open and reuse them (nodemailer's pooled transport); default false */
  pool?: boolean;
  /** time to establish the TCP (or TLS) connection; default 10 s */
  connectionTimeoutMs?: number;
  /** time to wait for the server's greeting; default 10 s */
  greetingTimeoutMs?: number;
  /** inactivity allowed on an open connection; default 60 s */
  socketTimeoutMs?: number;
}

/**
 * The Message-ID of the email for an advisory id: `<id@forewarn>`. The same advisory always gets
 * the same Message-ID, so a receiver can drop the duplicate of an email that was sent twice (the
 * outbox's at-least-once window). Ids that are not a valid dot-atom are hex-encoded.
 */
export function messageIdFor(id: string): string {
  const local = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/.test(id) ? id : Buffer.from(id, 'utf8').toString('hex');
  return `<${local}@forewarn>`;
}

/** Maps an email to nodemailer's mail options (shared by every nodemailer-based channel). */
export function toMailOptions(email: OutgoingEmail, defaultFrom: string): SendMailOptions {
  return {
    from: email.from.trim() === '' ? defaultFrom : email.from,
    to: email.to,
    subject: email.subject,
    text: email.text,
    html: email.html,
    messageId: messageIdFor(email.id),
    ...(email.headers ? { headers: email.headers } : {}),
    // advisory bodies come from templates: never let them pull in local files or URLs
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

/**
 * Creates a notifier that sends through the SMTP server named by `url`.
 * Throws at creation when the URL is not a usable SMTP_URL; `send` never throws.
 * When the server accepts some recipients and rejects others the send counts as delivered
 * (retrying would send a second copy to the accepted ones).
 */
export function createSmtpNotifier(options: SmtpNotifierOptions): Notifier {
  validateSmtpUrl(options.url);
  if (options.from.trim() === '') throw new Error('smtp notifier: from address is empty');
  const transporter = nodemailer.createTransport({
    url: options.url,
    pool: options.pool ?? false,
    connectionTimeout: options.connectionTimeoutMs ?? 10_000,
    greetingTimeout: options.greetingTimeoutMs ?? 10_000,
    socketTimeout: options.socketTimeoutMs ?? 60_000,
  });
  let closed = false;

  return {
    name: 'smtp',
    async send(email: OutgoingEmail): Promise<SendResult> {
      if (closed) return { ok: false, retryable: true, error: 'smtp notifier is closed' };
      try {
        await transporter.sendMail(toMailOptions(email, options.from));
        return { ok: true };
      } catch (err) {
        return classifySmtpError(err);
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      transporter.close();
    },
  };
}

/** Throws a clear error naming SMTP_URL unless `raw` is an smtp:// or smtps:// URL with a host. */
export function validateSmtpUrl(raw: string): void {
  const expected = 'expected smtp://[user:pass@]host[:port] or smtps://[user:pass@]host[:port]';
  let url: URL;
  try {
    url = new URL(raw);
  } catch (cause) {
    throw new Error(`invalid SMTP_URL "${redactUrl(raw)}": not a URL; ${expected}`, { cause });
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new Error(`invalid SMTP_URL "${redactUrl(raw)}": scheme ${url.protocol} is not smtp: or smtps:; ${expected}`);
  }
  if (url.hostname === '') throw new Error(`invalid SMTP_URL "${redactUrl(raw)}": no host; ${expected}`);
}

/** The URL with its password replaced by `***`, for error messages. */
function redactUrl(raw: string): string {
  return raw.replace(/(\/\/[^/?#@]*?:)[^/?#@]*@/, '$1***@');
}

/** Client-side refusals that the same message would get again. */
const PERMANENT_CLIENT_CODES = new Set(['EENVELOPE', 'EMESSAGE', 'EMAXRECIPIENTS', 'ECONFIG', 'EFILEACCESS', 'EURLACCESS']);

interface NodemailerErrorLike {
  message?: unknown;
  code?: unknown;
  responseCode?: unknown;
  command?: unknown;
}

/** Turns a nodemailer error into a SendResult. */
function classifySmtpError(err: unknown): SendResult {
  const e: NodemailerErrorLike = typeof err === 'object' && err !== null ? err : {};
  const message = typeof e.message === 'string' ? e.message : String(err);
  const code = typeof e.code === 'string' ? e.code : undefined;
  const command = typeof e.command === 'string' ? e.command : undefined;
  const error = `smtp ${command ?? 'send'} failed${code ? ` (${code})` : ''}: ${message}`;
  if (typeof e.responseCode === 'number') {
    const reply = e.responseCode;
    // RFC 5321: 5yz is a permanent rejection, 4yz transient. Two 5yz are not about the message:
    // 503 (bad sequence, a session problem) and authentication failures (the operator's
    // credentials to fix); the advisory waits for those instead of being given up.
    const permanent = reply >= 500 && reply < 600 && reply !== 503 && code !== 'EAUTH';
    return { ok: false, retryable: !permanent, error };
  }
  // no reply code: connection refused, timeouts, TLS and DNS trouble are retryable; the client
  // refusing the message itself (bad address, no recipients) is not
  return { ok: false, retryable: !(code !== undefined && PERMANENT_CLIENT_CODES.has(code)), error };
}
