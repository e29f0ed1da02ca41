/**
 * How status pages send mail: one small interface, so the server wires it to the SMTP settings the alerts
 * component reads (smtp_host, smtp_port, smtp_user, smtp_pass, smtp_from, smtp_secure) and tests pass a real
 * SMTP server on loopback.
 */
import nodemailer from 'nodemailer';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(msg: MailMessage): Promise<void>;
}

export interface SmtpSettings {
  host: string;
  port: number;
  secure: boolean;
  user: string;
  pass: string;
  from: string;
  /** Accept a self-signed certificate (tests; a private relay). */
  allowSelfSigned?: boolean;
}

export function createSmtpMailer(s: SmtpSettings): Mailer & { close(): void } {
  const transport = nodemailer.createTransport({
    host: s.host,
    port: s.port,
    secure: s.secure,
    auth: s.user ? { user: s.user, pass: s.pass } : undefined,
    tls: s.allowSelfSigned ? { rejectUnauthorized: false } : undefined,
  });
  return {
    async send(msg) {
      await transport.sendMail({ from: s.from, to: msg.to, subject: msg.subject, text: msg.text });
    },
    close: () => transport.close(),
  };
}

/** Mail that is dropped (no SMTP configured); sign-ups then answer that email is not available. */
export const NO_MAILER: Mailer | null = null;
