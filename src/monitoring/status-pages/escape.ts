/** Escaping for HTML and XML text and attribute values (the five XML-special characters). */
const MAP: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(s: string): string {
  // Also drops characters XML 1.0 forbids (C0 controls other than tab, newline, carriage return).
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '').replace(/[&<>"']/g, (c) => MAP[c]!);
}
