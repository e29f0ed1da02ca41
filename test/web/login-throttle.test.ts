/** The login throttle on an injected clock: per-username and per-address windows, Retry-After, reset on success. */
import { describe, expect, it } from 'vitest';
import { LoginThrottle } from '../../src/auth/login-throttle.js';

function throttle(over: Partial<ConstructorParameters<typeof LoginThrottle>[0]> = {}) {
  const clock = { now: 1_000_000 };
  const t = new LoginThrottle({ maxPerUser: 3, maxPerIp: 5, windowMs: 60_000, now: () => clock.now, ...over });
  return { t, clock };
}

describe('LoginThrottle', () => {
  it('locks a username after maxPerUser failures until the oldest leaves the window', () => {
    const { t, clock } = throttle();
    for (let i = 0; i < 3; i++) {
      expect(t.check('Ann', '10.0.0.1').ok).toBe(true);
      t.fail('Ann', '10.0.0.1');
      clock.now += 10_000;
    }
    // Failures at 0, 10 s, 20 s; now 30 s: the first leaves the window at 60 s, 30 s from now.
    expect(t.check('ann', '10.0.0.2')).toEqual({ ok: false, retryAfterSeconds: 30, scope: 'user' });
    clock.now += 29_999;
    expect(t.check('ann', '10.0.0.2').ok).toBe(false);
    clock.now += 1;
    expect(t.check('ann', '10.0.0.2').ok).toBe(true);
  });

  it('locks an address trying many usernames; success clears only the username', () => {
    const { t } = throttle();
    for (let i = 0; i < 5; i++) t.fail(`u${i}`, '10.0.0.9');
    expect(t.check('someone', '10.0.0.9')).toMatchObject({ ok: false, scope: 'ip' });
    expect(t.check('someone', '10.0.0.8').ok).toBe(true);
    const { t: t2 } = throttle();
    t2.fail('bob', '1.1.1.1');
    t2.fail('bob', '1.1.1.1');
    t2.succeed('BOB');
    t2.fail('bob', '1.1.1.1');
    t2.fail('bob', '1.1.1.1');
    expect(t2.check('bob', '2.2.2.2').ok).toBe(true);
  });

  it('tracks at most maxKeys keys, dropping the oldest', () => {
    const { t } = throttle({ maxKeys: 4, maxPerUser: 1 });
    t.fail('a', 'ip1');
    t.fail('b', 'ip2');
    t.fail('c', 'ip3');
    expect(t.check('a', 'ipX').ok).toBe(true);
    expect(t.check('c', 'ipX').ok).toBe(false);
  });
});
