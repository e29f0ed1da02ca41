/** Atom feed (RFC 4287) of a status page: one entry per incident and per maintenance occurrence, newest first. */
import { esc } from './escape.js';
import type { StatusPageView } from './view.js';

const iso = (t: number) => new Date(t).toISOString();

export function renderAtomFeed(v: StatusPageView, baseUrl: string): string {
  const page = `${baseUrl}/status/${encodeURIComponent(v.slug)}`;
  const entries: Array<{ id: string; title: string; updated: number; published: number; text: string }> = [];
  for (const i of [...v.activeIncidents, ...v.pastIncidents]) {
    const updated = Math.max(i.startedAt, i.resolvedAt ?? 0, ...i.updates.map((u) => u.at));
    const text = i.updates.map((u) => `${iso(u.at)} ${u.status}: ${u.message}`).join('\n') || i.status;
    entries.push({ id: `incident:${i.id}`, title: `[${i.status}] ${i.title}`, updated, published: i.startedAt, text });
  }
  for (const m of [...v.maintenance.active, ...v.maintenance.upcoming, ...v.maintenance.past]) {
    entries.push({
      id: `maintenance:${m.id}:${m.startsAt}`,
      title: `[maintenance] ${m.title}`,
      updated: m.startsAt,
      published: m.startsAt,
      text: `${iso(m.startsAt)} – ${iso(m.endsAt)}${m.description ? `\n${m.description}` : ''}`,
    });
  }
  entries.sort((a, b) => b.updated - a.updated);
  const feedUpdated = entries[0]?.updated ?? v.generatedAt;
  const tagBase = `tag:vantage,2026:status/${v.slug}`;
  const out = [
    `<?xml version="1.0" encoding="utf-8"?>`,
    `<feed xmlns="http://www.w3.org/2005/Atom">`,
    `<id>${esc(tagBase)}</id><title>${esc(v.title)}</title><updated>${iso(feedUpdated)}</updated>`,
    `<link rel="alternate" type="text/html" href="${esc(page)}"/><link rel="self" type="application/atom+xml" href="${esc(page)}/feed.atom"/>`,
    `<author><name>${esc(v.title)}</name></author>`,
  ];
  for (const e of entries) {
    out.push(
      `<entry><id>${esc(`${tagBase}/${e.id}`)}</id><title>${esc(e.title)}</title><updated>${iso(e.updated)}</updated>` +
        `<published>${iso(e.published)}</published><link rel="alternate" href="${esc(page)}"/><content type="text">${esc(e.text)}</content></entry>`,
    );
  }
  out.push(`</feed>`);
  return out.join('\n');
}
