import { isIPv4, isIPv6 } from 'node:net';

/**
 * The client an address stands for, as the per-address counters key it. An IPv4 address is one
 * client (often a whole NAT: a family, an office, a campus, a mobile carrier). An IPv6 client
 * usually holds a whole /64 (SLAAC, privacy addresses rotating within it), so counting single
 * IPv6 addresses would give one host 2^64 fresh budgets. IPv4-mapped IPv6 addresses (a
 * dual-stack listener's view of an IPv4 peer) count as the IPv4 address they carry.
 * Anything else (no address, a test's placeholder) is kept as given.
 */
export function addressKey(ip: string): string {
  const bare = ip.split('%', 1)[0] ?? '';
  if (isIPv4(bare)) return bare;
  if (!isIPv6(bare)) return ip;
  const groups = ipv6Groups(bare);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, an IPv4 tail as two groups). */
function ipv6Groups(ip: string): number[] {
  const parse = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((g) => {
          if (!g.includes('.')) return [parseInt(g, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = g.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const [head = '', tail] = ip.split('::');
  const before = parse(head);
  const after = tail === undefined ? [] : parse(tail);
  return [...before, ...Array<number>(8 - before.length - after.length).fill(0), ...after];
}
