/**
 * Email over SMTP (nodemailer), with the server's smtp_* settings. The Message-ID is derived from the
 * idempotency key, so a resend after a crash carries the same id and mail clients fold the two.
 */
import nodemailer from 'nodemailer';
import { z } from 'zod';
import { ChannelError, subjectOf, textOf, type ChannelDriver } from './types.js';

export const EmailSettings = z
  .object({
    to: z.array(z.email({ error: 'expected an email address' }), { error: 'expected a list of email addresses' }).min(1, { error: 'expected at least one address' }),
  })
  .strict();

export const email: ChannelDriver<z.output<typeof EmailSettings>> = {
  type: 'email',
  settings: EmailSettings,
  secretKeys: [],
  async send(s, n, ctx) {
    const smtp = ctx.smtp;
    if (smtp.smtp_host === '') throw new ChannelError('smtp_host is not set in server.yml', true);
    const transport = nodemailer.createTransport({
      host: smtp.smtp_host,
      port: smtp.smtp_port,
      secure: smtp.smtp_secure,
      auth: smtp.smtp_user !== '' ? { user: smtp.smtp_user, pass: smtp.smtp_pass } : undefined,
      connectionTimeout: ctx.timeoutMs,
      greetingTimeout: ctx.timeoutMs,
      socketTimeout: ctx.timeoutMs,
      tls: { rejectUnauthorized: true },
    });
    try {
      const info = await transport.sendMail({
        from: smtp.smtp_from,
        to: s.to,
        subject: subjectOf(n),
        text: textOf(n),
        messageId: `<${n.idempotencyKey.replace(/[^A-Za-z0-9_.-]/g, '.')}@vantage>`,
        headers: { 'X-Vantage-Idempotency-Key': n.idempotencyKey, 'X-Vantage-Event': n.event },
      });
      return `SMTP ${info.response.slice(0, 80)}`;
    } catch (err) {
      const e = err as { responseCode?: number; message: string };
      throw new ChannelError(`SMTP: ${e.message}`, e.responseCode !== undefined && e.responseCode >= 500 && e.responseCode < 600 && e.responseCode !== 552);
    } finally {
      transport.close();
    }
  },
};
