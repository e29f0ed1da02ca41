/**
 * Constant-time secret comparison, shared by every credential check (API keys, the worker token). Secrets are
 * compared as SHA-256 digests with timingSafeEqual: the digests have a fixed length, so neither the content nor
 * the length of a secret leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** The SHA-256 digest of a UTF-8 string. */
export function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Constant-time string equality (compares fixed-length digests, so lengths leak nothing either). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

/**
 * Matches a presented value against several secrets, each with a label, in constant time: the value is
 * compared with every secret, without an early exit, so timing reveals neither a secret nor which one matched.
 * The first matching entry's label wins. Returns null when the value matches none.
 */
export function secretMatcher<L>(secrets: ReadonlyArray<{ secret: string; label: L }>): (value: string) => L | null {
  const digests = secrets.map((s) => ({ d: sha256(s.secret), label: s.label }));
  return (value) => {
    const d = sha256(value);
    let found: L | null = null;
    for (const s of digests) {
      if (timingSafeEqual(d, s.d) && found === null) found = s.label;
    }
    return found;
  };
}
