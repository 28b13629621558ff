import { describe, expect, it } from 'vitest';
import { email, notifierContract } from './contract.ts';
import { createMemoryNotifier } from './memory.ts';

notifierContract('memory', () => {
  const notifier = createMemoryNotifier();
  return {
    notifier,
    mime: false,
    delivered: async () =>
      notifier.sent.map((e) => ({
        recipients: [...e.to],
        subject: e.subject,
        text: e.text,
        html: e.html,
        headers: Object.fromEntries(Object.entries(e.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
      })),
    failNext: (kind) => notifier.failNext(1, { retryable: kind === 'transient' }),
    close: () => notifier.close(),
  };
});

describe('memory notifier', () => {
  it('failNext(2) => fail, fail, ok, counting every attempt', async () => {
    const n = createMemoryNotifier();
    n.failNext(2, { retryable: false, error: 'boom' });
    const results = [await n.send(email()), await n.send(email()), await n.send(email())];
    expect(results).toEqual([{ ok: false, retryable: false, error: 'boom' }, { ok: false, retryable: false, error: 'boom' }, { ok: true }]);
    expect(n.attempts).toBe(3);
    expect(n.sent).toHaveLength(1);
  });

  it('records a copy: changing the email afterwards does not change what was sent', async () => {
    const n = createMemoryNotifier();
    const mail = email({ to: ['a@example.com'] });
    await n.send(mail);
    mail.to.push('b@example.com');
    expect(n.sent[0]?.to).toEqual(['a@example.com']);
  });

  it('beforeSend holds a send in flight until released', async () => {
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const n = createMemoryNotifier({ beforeSend: () => gate });
    const pending = n.send(email());
    await new Promise((r) => setImmediate(r));
    expect(n.attempts).toBe(1);
    expect(n.sent).toHaveLength(0);
    release();
    expect(await pending).toEqual({ ok: true });
    expect(n.sent).toHaveLength(1);
  });

  it('reset forgets sent emails, attempts and queued failures', async () => {
    const n = createMemoryNotifier();
    await n.send(email());
    n.failNext(1);
    n.reset();
    expect(n.sent).toHaveLength(0);
    expect(n.attempts).toBe(0);
    expect(await n.send(email())).toEqual({ ok: true });
  });
});
