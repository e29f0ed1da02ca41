import type { IncomingMessage } from 'node:http';
import { canonicalIp, type CidrSet } from './ip.js';

/**
 * Which address a request comes from, for the allow-list and the rate limiter.
 *
 * The socket's peer address is the client unless that peer is a trusted proxy (`trusted_proxies`). Only then
 * is `X-Forwarded-For` read, from the right (the hop the trusted proxy appended) leftwards, skipping hops that
 * are themselves trusted proxies; the first untrusted hop is the client. A malformed hop stops the walk and the
 * last address that could be verified is used. With no trusted proxies the header is never believed, so a
 * spoofed `X-Forwarded-For` changes nothing.
 *
 * The result is canonical (IPv4-mapped IPv6 as dotted quad), so it can key a rate-limit bucket directly.
 */
export function resolveClientIp(socketAddress: string | undefined, forwardedFor: string | string[] | undefined, trusted: CidrSet): string {
  const peer = peerAddress(socketAddress);
  if (trusted.size === 0 || forwardedFor === undefined || !trusted.matches(peer)) return peer;
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
  const hops = header.split(',');
  let current = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = stripPort(hops[i]!.trim());
    if (hop === '') continue;
    const ip = canonicalIp(hop);
    if (ip === null) return current;
    current = ip;
    if (!trusted.matches(ip)) return ip;
  }
  return current;
}

/** The client address of a request: `resolveClientIp` of its socket and (from trusted proxies) X-Forwarded-For. */
export function requestClientIp(req: IncomingMessage, trusted: CidrSet): string {
  return resolveClientIp(req.socket.remoteAddress, trusted.size > 0 ? req.headers['x-forwarded-for'] : undefined, trusted);
}

/** `1.2.3.4:5678` and `[2001:db8::1]:443` → the address; anything else unchanged. */
function stripPort(hop: string): string {
  if (hop.startsWith('[')) {
    const end = hop.indexOf(']');
    return end === -1 ? hop : hop.slice(1, end);
  }
  const colon = hop.indexOf(':');
  if (colon !== -1 && colon === hop.lastIndexOf(':') && hop.includes('.')) return hop.slice(0, colon);
  return hop;
}

/**
 * The canonical form of a socket's peer address. The last one is remembered: keep-alive connections send
 * request after request from one address, and canonicalising an IPv4-mapped IPv6 address (what a dual-stack
 * listener reports) costs more than the rest of the allow-list stage.
 */
let lastPeerText: string | undefined;
let lastPeer = 'unknown';
function peerAddress(socketAddress: string | undefined): string {
  if (socketAddress === lastPeerText) return lastPeer;
  const peer = (socketAddress && canonicalIp(socketAddress)) || socketAddress || 'unknown';
  lastPeerText = socketAddress;
  lastPeer = peer;
  return peer;
}
