// The address a request came from, for limits on callers without a token. Behind proxies the TCP
// peer is the proxy, and the caller's address is the entry the nearest trusted proxy appended to
// X-Forwarded-For: Cloud Run's front end appends one (TRUSTED_PROXY_HOPS=1), an external load
// balancer in front of it one more (2). Entries further left are whatever the client wrote and are
// never trusted. IPv6 callers are grouped by their /64, which one subscriber usually holds whole.
//
// While both doors are open (production's front door and the run.app URL), the hop count differs
// by door. The front door's host name (FRONT_DOOR_HOST) tells them apart: Cloud Run's front end
// routes a request by its Host, so one naming the front door reached the gateway through the load
// balancer, which appended one more entry.

import type { IncomingMessage } from 'node:http';
import { isIPv4, isIPv6 } from 'node:net';

export function clientAddress(req: Pick<IncomingMessage, 'headers' | 'socket'> | undefined, proxyHops: number, frontDoorHost?: string): string {
  const peer = req?.socket?.remoteAddress ?? 'unknown';
  if (proxyHops === 0 || req === undefined) return addressBucket(peer);
  const trustedProxyHops = frontDoorHost !== undefined && hostName(req.headers.host) === frontDoorHost ? proxyHops + 1 : proxyHops;
  const header = req.headers['x-forwarded-for'];
  const entries = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((e) => e.trim()).filter(Boolean);
  // Fewer entries than trusted hops: the request did not come the expected way; the peer is all we know.
  const entry = entries.length >= trustedProxyHops ? entries[entries.length - trustedProxyHops]! : peer;
  return addressBucket(entry);
}

/** A Host header's name: lowercase, without its port or a trailing dot. */
function hostName(host: string | undefined): string | undefined {
  return host?.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
}

/** One limit bucket per IPv4 address, per IPv6 /64; anything else is kept as it is (bounded). */
export function addressBucket(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIPv4(address)) return address;
  if (isIPv6(address)) return `${expandIPv6(address).slice(0, 4).join(':')}::/64`;
  return address.slice(0, 64);
}

function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('%')[0]!.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const missing = 8 - left.length - right.length;
  return [...left, ...Array.from({ length: Math.max(0, missing) }, () => '0'), ...right].map((group) => group.replace(/^0+(?=.)/, ''));
}
