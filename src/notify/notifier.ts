/**
 * The notifier interface: one channel that delivers an email. Implementations: `email/smtp.ts`
 * (nodemailer to SMTP_URL), `email/eml-files.ts` (.eml files under the data folder, the default)
 * and `memory.ts` (tests). The outbox (`outbox.ts`) is the only caller.
 */

export interface OutgoingEmail {
  /** advisory id; also used for the Message-ID header so a receiver can drop a duplicate */
  id: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  headers?: Record<string, string>;
}

/** Delivery results are values, not exceptions. */
export type SendResult = { ok: true } | { ok: false; retryable: boolean; error: string };

export interface Notifier {
  readonly name: string;
  send(email: OutgoingEmail): Promise<SendResult>;
  close(): Promise<void>;
}
