import type { Sender } from './http.js';

/** Where the fuzzer's calls come from. */
export interface ClientAddresses {
  /** False when this machine cannot send from loopback aliases: every call then comes from one address. */
  readonly separate: boolean;
  /** The address for the RPC at `index`. */
  rpc(index: number): string | undefined;
  /** A new address for the fuzzer's own calls (sign-in, seeding), never used by a case. */
  nextOwn(): string | undefined;
}

/**
 * Per-IP rate limits (Register, Login failures, Refresh, OAuth) would otherwise carry one
 * RPC's cases into the next RPC's answers and refuse the fuzzer's own sign-ins after a Login
 * case failed five times. Linux routes all of 127.0.0.0/8 to loopback, so each RPC gets an
 * address of its own (127.1.x.y) and the fuzzer's bookkeeping another (127.2.0.n); elsewhere
 * the run falls back to one address and says so.
 */
export async function clientAddresses(sender: Sender): Promise<ClientAddresses> {
  const probe = await sender.get('/health/live', '127.2.0.250');
  const separate = probe.kind === 'answer' && probe.status === 200;
  let own = 0;
  return {
    separate,
    rpc: (index) => (separate ? `127.1.${Math.floor(index / 250) % 250}.${(index % 250) + 1}` : undefined),
    nextOwn: () => (separate ? `127.2.0.${(own++ % 240) + 1}` : undefined),
  };
}
