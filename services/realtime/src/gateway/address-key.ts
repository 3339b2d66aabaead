import { isIPv4, isIPv6 } from 'node:net';

/**
 * The key under which sockets from one client are counted. An IPv4 address is one client; an
 * IPv6 client usually holds a whole /64 (SLAAC, privacy addresses), so counting single IPv6
 * addresses would let one host open a fresh "address" per socket. IPv4-mapped IPv6 addresses
 * (a dual-stack listener's view of IPv4 peers) count as the IPv4 address they carry.
 */
export function addressKey(ip: string): string {
  const bare = ip.split('%', 1)[0] ?? '';
  if (isIPv4(bare)) return bare;
  if (!isIPv6(bare)) return ip;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(bare);
  if (mapped?.[1] && isIPv4(mapped[1])) return mapped[1];
  return `${expandIPv6(bare).slice(0, 4).join(':')}::/64`;
}

/** The eight groups of a valid IPv6 address, lower-case hex without leading zeros. */
function expandIPv6(ip: string): string[] {
  const groupsOf = (part: string): string[] => {
    if (part === '') return [];
    return part.split(':').flatMap((g) => {
      if (!g.includes('.')) return [g];
      // An embedded IPv4 tail (e.g. 64:ff9b::192.0.2.1) is the last two groups.
      const [a = 0, b = 0, c = 0, d = 0] = g.split('.').map(Number);
      return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
    });
  };
  const [head = '', tail] = ip.split('::');
  const headGroups = groupsOf(head);
  const tailGroups = tail === undefined ? [] : groupsOf(tail);
  const zeros = Array.from({ length: 8 - headGroups.length - tailGroups.length }, () => '0');
  return [...headGroups, ...zeros, ...tailGroups].map((g) => parseInt(g, 16).toString(16));
}
