/**
 * Email subscribers with double opt-in: a sign-up stores a pending subscriber and mails a confirm link; only
 * confirmed subscribers get notices, and every notice carries an unsubscribe link. Maintenance notices (start
 * and end of each occurrence) are claimed in the store first, so each goes out once across replicas/restarts.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { StatusPageRecord, StatusPagesStore } from '../../store/status-pages.js';
import type { Calendar } from '../maintenance/calendar.js';
import type { Mailer } from './mailer.js';

/** A practical address check (RFC 5322 in full accepts far more than any mailbox provider does). */
const EMAIL = /^[^\s@<>()",;:\\[\]]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

export function emailError(email: unknown): string | null {
  if (typeof email !== 'string' || email.length > 254 || !EMAIL.test(email)) return 'email: expected an email address such as you@example.com';
  return null;
}

export const newToken = () => randomBytes(24).toString('base64url');

export async function subscribe(
  deps: { store: StatusPagesStore; mailer: Mailer; publicUrl: string; now: () => number },
  page: StatusPageRecord,
  email: string,
): Promise<'sent' | 'already_confirmed'> {
  const s = await deps.store.addSubscriber({ id: randomUUID(), slug: page.slug, email, token: newToken() }, deps.now());
  if (!s) throw new Error(`status page ${page.slug} does not exist`);
  if (s.confirmedAt !== null) return 'already_confirmed';
  const base = `${deps.publicUrl}/status/${encodeURIComponent(page.slug)}`;
  await deps.mailer.send({
    to: s.email,
    subject: `Confirm your subscription to ${page.title}`,
    text:
      `Someone (hopefully you) asked for email updates from ${page.title}.\n\n` +
      `Confirm: ${base}/confirm?token=${s.token}\n\n` +
      `If it was not you, ignore this message: nothing will be sent without confirmation.\n`,
  });
  return 'sent';
}

/** Mails every confirmed subscriber of a page. */
async function mailAll(deps: { store: StatusPagesStore; mailer: Mailer; publicUrl: string }, page: StatusPageRecord, subject: string, body: string): Promise<number> {
  const subs = await deps.store.listSubscribers(page.slug, { confirmedOnly: true });
  let sent = 0;
  for (const s of subs) {
    const unsub = `${deps.publicUrl}/status/${encodeURIComponent(page.slug)}/unsubscribe?token=${s.token}`;
    await deps.mailer.send({ to: s.email, subject, text: `${body}\n\n${deps.publicUrl}/status/${encodeURIComponent(page.slug)}\nUnsubscribe: ${unsub}\n` });
    sent++;
  }
  return sent;
}

/**
 * Sends maintenance start/end notices that are due at `now`: for each occurrence that started (ended) within
 * the last `lookbackMs`, claims the notice and mails the subscribers of every page the window touches.
 * Returns the number of mails sent. Run it on the leader every few seconds.
 */
export async function sendMaintenanceNotices(
  deps: { store: StatusPagesStore; mailer: Mailer; publicUrl: string; calendar: Calendar },
  now: number,
  lookbackMs = 10 * 60_000,
): Promise<number> {
  let sent = 0;
  for (const page of deps.calendar.pages) {
    for (const { window: w, occurrences } of deps.calendar.windowsForPage(page, now - lookbackMs, now + 1)) {
      for (const o of occurrences) {
        for (const kind of ['start', 'end'] as const) {
          const at = kind === 'start' ? o.start : o.end;
          if (at > now || at < now - lookbackMs) continue;
          // One claim per (window, occurrence, kind, page): the page slug is folded into the window key.
          if (!(await deps.store.claimNotice(`${w.id}@${page.slug}`, o.start, kind, now))) continue;
          const when = `${new Date(o.start).toISOString()} – ${new Date(o.end).toISOString()}`;
          const subject = kind === 'start' ? `[${page.title}] Maintenance started: ${w.title}` : `[${page.title}] Maintenance finished: ${w.title}`;
          const body = kind === 'start' ? `Scheduled maintenance "${w.title}" has started (${when}).${w.description ? `\n\n${w.description}` : ''}` : `Scheduled maintenance "${w.title}" has finished.`;
          sent += await mailAll(deps, page, subject, body);
        }
      }
    }
  }
  return sent;
}
