/**
 * SVG badges in the familiar two-part "label | value" shape. Text widths are estimated from a per-character
 * table of Verdana 11 px (the font badges conventionally use), so no font file is needed.
 */
import { esc } from './escape.js';

export const BADGE_COLORS = { green: '#4c1', yellow: '#dfb317', orange: '#fe7d37', red: '#e05d44', blue: '#007ec6', grey: '#9f9f9f' } as const;
export type BadgeColor = keyof typeof BADGE_COLORS;

const NARROW = new Set('ijlI.,:;!|\'()[] ');
const WIDE = new Set('mwMW%@');

function textWidth(s: string): number {
  let w = 0;
  for (const c of s) w += NARROW.has(c) ? 4 : WIDE.has(c) ? 10 : c >= 'A' && c <= 'Z' ? 7.5 : 6.5;
  return Math.ceil(w);
}

export function renderBadge(label: string, value: string, color: BadgeColor): string {
  const lw = textWidth(label) + 10;
  const vw = textWidth(value) + 10;
  const w = lw + vw;
  const l = esc(label);
  const v = esc(value);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="20" role="img" aria-label="${l}: ${v}">` +
    `<title>${l}: ${v}</title>` +
    `<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>` +
    `<clipPath id="r"><rect width="${w}" height="20" rx="3" fill="#fff"/></clipPath>` +
    `<g clip-path="url(#r)"><rect width="${lw}" height="20" fill="#555"/><rect x="${lw}" width="${vw}" height="20" fill="${BADGE_COLORS[color]}"/>` +
    `<rect width="${w}" height="20" fill="url(#s)"/></g>` +
    `<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">` +
    `<text x="${lw / 2}" y="14">${l}</text><text x="${lw + vw / 2}" y="14">${v}</text></g></svg>`
  );
}

export function uptimeColor(pct: number | null): BadgeColor {
  if (pct === null) return 'grey';
  if (pct >= 99.9) return 'green';
  if (pct >= 99) return 'yellow';
  if (pct >= 95) return 'orange';
  return 'red';
}

export function latencyColor(ms: number | null): BadgeColor {
  if (ms === null) return 'grey';
  if (ms <= 300) return 'green';
  if (ms <= 1000) return 'yellow';
  return 'red';
}

/** "99.95%", "100%", "no data". */
export function formatPct(pct: number | null): string {
  if (pct === null) return 'no data';
  const s = pct >= 99.995 ? '100' : pct.toFixed(2).replace(/\.?0+$/, '');
  return `${s}%`;
}
