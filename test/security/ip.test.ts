import { describe, expect, it } from 'vitest';
import { canonicalIp, compileCidrs, InvalidCidrError, parseIp } from '../../src/http/ip.js';
import { resolveClientIp } from '../../src/http/client-address.js';

describe('parseIp / canonicalIp', () => {
  it('parses IPv4 and IPv6, rejects non-addresses', () => {
    expect(parseIp('10.1.2.3')).toEqual({ family: 4, value: 0x0a010203 });
    expect(parseIp('255.255.255.255')).toEqual({ family: 4, value: 0xffffffff });
    expect(parseIp('2001:db8::1')).toEqual({ family: 6, value: (0x20010db8n << 96n) | 1n });
    expect(parseIp('::')).toEqual({ family: 6, value: 0n });
    for (const bad of ['', 'localhost', '10.0.0.256', '10.0.0.1/8', '1.2.3', '::g', '1.2.3.4:80', '01.2.3.4x', ' ']) {
      expect(parseIp(bad), bad).toBeNull();
    }
  });

  it('treats IPv4-mapped IPv6 as IPv4 in every spelling', () => {
    for (const t of ['::ffff:10.1.2.3', '::FFFF:10.1.2.3', '::ffff:a01:203', '0:0:0:0:0:ffff:10.1.2.3', '[::ffff:10.1.2.3]']) {
      expect(parseIp(t), t).toEqual({ family: 4, value: 0x0a010203 });
      expect(canonicalIp(t), t).toBe('10.1.2.3');
    }
    // ::10.1.2.3 (IPv4-compatible, deprecated) is NOT IPv4-mapped.
    expect(parseIp('::10.1.2.3')?.family).toBe(6);
  });

  it('canonicalises IPv6 (RFC 5952) and strips zone ids', () => {
    expect(canonicalIp('2001:0DB8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(canonicalIp('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(canonicalIp('fe80::1%eth0')).toBe('fe80::1');
    expect(canonicalIp('::1')).toBe('::1');
    expect(canonicalIp('::')).toBe('::');
    expect(canonicalIp('1:2:3:4:5:6:7:8')).toBe('1:2:3:4:5:6:7:8');
    expect(canonicalIp('nope')).toBeNull();
  });
});

describe('compileCidrs', () => {
  it('matches IPv4 blocks, bare addresses and /0', () => {
    const set = compileCidrs(['10.0.0.0/8', '192.168.1.10', '172.16.0.0/12']);
    expect(set.matches('10.255.1.1')).toBe(true);
    expect(set.matches('11.0.0.1')).toBe(false);
    expect(set.matches('192.168.1.10')).toBe(true);
    expect(set.matches('192.168.1.11')).toBe(false);
    expect(set.matches('172.31.255.255')).toBe(true);
    expect(set.matches('172.32.0.0')).toBe(false);
    expect(compileCidrs(['0.0.0.0/0']).matches('8.8.8.8')).toBe(true);
    expect(compileCidrs(['0.0.0.0/0']).matches('2001:db8::1')).toBe(false);
  });

  it('masks host bits of the configured network', () => {
    expect(compileCidrs(['10.1.2.3/8']).matches('10.200.0.1')).toBe(true);
  });

  it('matches IPv6 blocks', () => {
    const set = compileCidrs(['2001:db8::/32', '::1']);
    expect(set.matches('2001:db8:ffff::1')).toBe(true);
    expect(set.matches('2001:db9::1')).toBe(false);
    expect(set.matches('::1')).toBe(true);
    expect(set.matches('::2')).toBe(false);
    expect(compileCidrs(['::/0']).matches('fe80::1')).toBe(true);
  });

  it('matches IPv4-mapped IPv6 clients against IPv4 blocks, and mapped blocks against IPv4 clients', () => {
    const set = compileCidrs(['10.0.0.0/8']);
    expect(set.matches('::ffff:10.9.8.7')).toBe(true);
    expect(set.matches('::ffff:11.9.8.7')).toBe(false);
    const mapped = compileCidrs(['::ffff:192.168.0.0/112']);
    expect(mapped.matches('192.168.44.1')).toBe(true);
    expect(mapped.matches('192.169.0.1')).toBe(false);
  });

  it('never matches garbage and an empty set matches nothing', () => {
    const set = compileCidrs(['0.0.0.0/0', '::/0']);
    for (const bad of ['', 'unknown', '1.2.3.4, 5.6.7.8', 'evil.example']) expect(set.matches(bad), bad).toBe(false);
    expect(compileCidrs([]).matches('10.0.0.1')).toBe(false);
  });

  it('throws naming the setting and the entry for invalid CIDRs', () => {
    for (const bad of ['10.0.0.0/33', 'nope', '10.0.0.0/', '2001:db8::/129', '10.0.0.0/-1', '::ffff:10.0.0.0/64']) {
      let err: unknown;
      try {
        compileCidrs(['10.0.0.0/8', bad], 'trusted_proxies');
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(InvalidCidrError);
      expect((err as Error).message).toContain('trusted_proxies');
      expect((err as Error).message).toContain(`"${bad}"`);
    }
  });
});

describe('resolveClientIp', () => {
  const none = compileCidrs([]);
  const proxies = compileCidrs(['10.0.0.0/8', '::1']);

  it('ignores X-Forwarded-For when no proxies are trusted (spoofing changes nothing)', () => {
    expect(resolveClientIp('203.0.113.9', '127.0.0.1', none)).toBe('203.0.113.9');
    expect(resolveClientIp('::ffff:203.0.113.9', '10.0.0.1, 127.0.0.1', none)).toBe('203.0.113.9');
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    expect(resolveClientIp('203.0.113.9', '198.51.100.1', proxies)).toBe('203.0.113.9');
  });

  it('takes the right-most untrusted hop when the peer is a trusted proxy', () => {
    expect(resolveClientIp('10.0.0.2', '198.51.100.7', proxies)).toBe('198.51.100.7');
    // The client prepended a spoofed hop; only what our proxies appended is believed.
    expect(resolveClientIp('10.0.0.2', '1.1.1.1, 198.51.100.7, 10.0.0.3', proxies)).toBe('198.51.100.7');
    expect(resolveClientIp('::1', '198.51.100.7', proxies)).toBe('198.51.100.7');
    expect(resolveClientIp('10.0.0.2', ['1.1.1.1', '198.51.100.7'], proxies)).toBe('198.51.100.7');
  });

  it('handles ports, IPv6 brackets and mapped addresses in hops', () => {
    expect(resolveClientIp('10.0.0.2', '198.51.100.7:5555', proxies)).toBe('198.51.100.7');
    expect(resolveClientIp('10.0.0.2', '[2001:db8::5]:443', proxies)).toBe('2001:db8::5');
    expect(resolveClientIp('10.0.0.2', '::ffff:198.51.100.7', proxies)).toBe('198.51.100.7');
  });

  it('stops at a malformed hop and uses the last verified address', () => {
    expect(resolveClientIp('10.0.0.2', 'not-an-ip', proxies)).toBe('10.0.0.2');
    expect(resolveClientIp('10.0.0.2', '198.51.100.7, garbage, 10.0.0.3', proxies)).toBe('10.0.0.3');
  });

  it('uses the left-most hop when every hop is a trusted proxy, and the peer when the header is empty', () => {
    expect(resolveClientIp('10.0.0.2', '10.0.0.9, 10.0.0.3', proxies)).toBe('10.0.0.9');
    expect(resolveClientIp('10.0.0.2', '', proxies)).toBe('10.0.0.2');
    expect(resolveClientIp('10.0.0.2', undefined, proxies)).toBe('10.0.0.2');
  });

  it('survives a missing socket address', () => {
    expect(resolveClientIp(undefined, '1.2.3.4', none)).toBe('unknown');
  });

  it('gives each peer its own address when peers alternate (the last one is remembered)', () => {
    const peers: Array<[string | undefined, string]> = [
      ['::ffff:203.0.113.9', '203.0.113.9'],
      ['::ffff:203.0.113.9', '203.0.113.9'],
      ['2001:db8:0:0:0:0:0:1', '2001:db8::1'],
      [undefined, 'unknown'],
      ['198.51.100.4', '198.51.100.4'],
      ['::ffff:203.0.113.9', '203.0.113.9'],
      ['not-an-address', 'not-an-address'],
      ['198.51.100.4', '198.51.100.4'],
    ];
    for (const [socket, want] of peers) expect(resolveClientIp(socket, undefined, none), String(socket)).toBe(want);
  });
});
