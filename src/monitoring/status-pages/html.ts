/**
 * Server-rendered HTML of a status page: no script, one inline stylesheet, a 90-day bar per monitor as flex
 * segments (so it renders without JavaScript). Consecutive days that read the same (same colour and the same
 * text: "100%", "no data", maintenance) are one segment as wide as its days (`data-days`, class `w<n>`), which
 * is lossless and keeps a page of 100 monitors × 90 days small. Everything user-provided is escaped.
 */
import { esc } from './escape.js';
import type { DayBar, MonitorState, OverallState, StatusPageView } from './view.js';

const OVERALL_TEXT: Record<OverallState, string> = {
  operational: 'All systems operational',
  partial_outage: 'Partial outage',
  major_outage: 'Major outage',
  maintenance: 'Under maintenance',
  unknown: 'Status unknown',
};
const STATE_TEXT: Record<MonitorState, string> = { up: 'Operational', down: 'Down', maintenance: 'Maintenance', unknown: 'No data' };

const CSS = `body{font:15px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
main{max-width:860px;margin:0 auto;padding:24px 16px}h1{margin:0 0 4px}
.banner{padding:14px 18px;border-radius:8px;color:#fff;font-weight:600;margin:16px 0}
.operational{background:#1f9d55}.partial_outage{background:#d97706}.major_outage{background:#dc2626}.maintenance{background:#2563eb}.unknown{background:#6b7280}
section{background:#fff;border-radius:8px;padding:12px 18px;margin:12px 0;box-shadow:0 1px 2px #0001}
.mon{padding:8px 0;border-top:1px solid #eee}.mon:first-of-type{border-top:0}.row{display:flex;justify-content:space-between;gap:8px}
.st-up{color:#1f9d55}.st-down{color:#dc2626}.st-maintenance{color:#2563eb}.st-unknown{color:#6b7280}
.bar{display:flex;gap:1px;height:28px;margin-top:6px}.bar span{flex:1;border-radius:1px;background:#d1d5db}
.bar .b-ok{background:#1f9d55}.bar .b-warn{background:#d97706}.bar .b-bad{background:#dc2626}.bar .b-maint{background:#2563eb}
.meta{color:#6b7280;font-size:13px}form{display:flex;gap:8px}input[type=email]{flex:1;padding:6px}`;

function dayClass(d: DayBar): string {
  if (d.uptimePct === null) return d.maintenance ? 'b-maint' : '';
  if (d.uptimePct >= 99.9) return 'b-ok';
  if (d.uptimePct >= 95) return 'b-warn';
  return 'b-bad';
}

const dayText = (d: DayBar): string => `${d.uptimePct === null ? 'no data' : `${d.uptimePct}%`}${d.maintenance ? ', maintenance' : ''}`;

/** One monitor's bar: runs of days that read the same as one segment each; `widths` collects the run lengths. */
function renderBar(days: readonly DayBar[], widths: Set<number>): string {
  let out = '';
  for (let i = 0; i < days.length; ) {
    const d = days[i]!;
    const cls = dayClass(d);
    const text = dayText(d);
    let j = i + 1;
    while (j < days.length && dayClass(days[j]!) === cls && dayText(days[j]!) === text) j++;
    const n = j - i;
    if (n > 1) widths.add(n);
    const klass = [cls, n > 1 ? `w${n}` : ''].filter((c) => c !== '').join(' ');
    out += `<span${klass ? ` class="${klass}"` : ''} data-days="${n}" title="${n === 1 ? d.date : `${d.date} – ${days[j - 1]!.date}`}: ${text}"></span>`;
    i = j;
  }
  return out;
}

const time = (t: number) => `<time datetime="${new Date(t).toISOString()}">${new Date(t).toISOString().replace('T', ' ').slice(0, 16)} UTC</time>`;

export function renderStatusPageHtml(v: StatusPageView, opts: { subscribe: boolean }): string {
  const parts: string[] = [];
  const widths = new Set<number>();
  parts.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`);
  const head = parts.length;
  parts.push('');
  parts.push(`<h1>${esc(v.title)}</h1>${v.description ? `<p class="meta">${esc(v.description)}</p>` : ''}`);
  parts.push(`<div class="banner ${v.overall}" id="overall" data-state="${v.overall}">${OVERALL_TEXT[v.overall]}</div>`);
  for (const i of v.activeIncidents) {
    const last = i.updates[i.updates.length - 1];
    parts.push(`<section class="incident" data-impact="${i.impact}"><h2>${esc(i.title)}</h2><p><strong>${esc(i.status)}</strong>${last ? ` — ${esc(last.message)}` : ''}</p><p class="meta">Since ${time(i.startedAt)}</p></section>`);
  }
  for (const m of v.maintenance.active) {
    parts.push(`<section class="maintenance-active"><h2>Maintenance: ${esc(m.title)}</h2><p>${esc(m.description)}</p><p class="meta">Until ${time(m.endsAt)}</p></section>`);
  }
  for (const g of v.groups) {
    parts.push(`<section class="group"><h2>${esc(g.name)}</h2>`);
    for (const m of g.monitors) {
      const bars = renderBar(m.days, widths);
      parts.push(
        `<div class="mon" data-monitor="${esc(m.id)}"><div class="row"><span>${esc(m.name)}${m.target ? ` <span class="meta">${esc(m.target)}</span>` : ''}</span>` +
          `<span class="st-${m.status}">${STATE_TEXT[m.status]}</span></div><div class="bar" aria-label="90-day uptime">${bars}</div>` +
          `<div class="row meta"><span>90 days ago</span><span>${m.uptimePct === null ? 'no data' : `${m.uptimePct}% uptime`}</span><span>today</span></div></div>`,
      );
    }
    parts.push(`</section>`);
  }
  if (v.maintenance.upcoming.length > 0) {
    parts.push(`<section class="maintenance-upcoming"><h2>Scheduled maintenance</h2><ul>`);
    for (const m of v.maintenance.upcoming) parts.push(`<li>${esc(m.title)}: ${time(m.startsAt)} – ${time(m.endsAt)}</li>`);
    parts.push(`</ul></section>`);
  }
  parts.push(`<section class="past"><h2>Past incidents</h2>`);
  if (v.pastIncidents.length === 0) parts.push(`<p class="meta">No incidents in the last 90 days.</p>`);
  for (const i of v.pastIncidents) {
    parts.push(`<article><h3>${esc(i.title)}</h3><p class="meta">${time(i.startedAt)}${i.resolvedAt ? ` – ${time(i.resolvedAt)}` : ''}</p><ul>`);
    for (const u of i.updates) parts.push(`<li><strong>${esc(u.status)}</strong> ${time(u.at)}: ${esc(u.message)}</li>`);
    parts.push(`</ul></article>`);
  }
  parts.push(`</section>`);
  if (opts.subscribe) {
    parts.push(
      `<section class="subscribe"><h2>Get updates by email</h2><form method="post" action="/status/${esc(v.slug)}/subscribe">` +
        `<input type="email" name="email" required placeholder="you@example.com" aria-label="Email address"><button type="submit">Subscribe</button></form></section>`,
    );
  }
  parts.push(`<p class="meta">Updated ${time(v.generatedAt)} · <a href="/status/${esc(v.slug)}.json">JSON</a> · <a href="/status/${esc(v.slug)}/feed.atom">Atom feed</a></p>`);
  parts.push(`</main></body></html>`);
  // The stylesheet, with a width rule for each run length used on this page.
  const runs = [...widths].sort((a, b) => a - b).map((n) => `.bar .w${n}{flex:${n}}`).join('');
  parts[head] = `<title>${esc(v.title)}</title><link rel="alternate" type="application/atom+xml" href="/status/${esc(v.slug)}/feed.atom"><style>${CSS}${runs}</style></head><body><main>`;
  return parts.join('');
}

/** A small page for subscribe/confirm answers. */
export function renderMessagePage(title: string, message: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${CSS}</style></head><body><main><h1>${esc(title)}</h1><p>${esc(message)}</p></main></body></html>`;
}
