import type { Sender } from './http.js';

/** Where the fuzzer's calls come from. */
export interface ClientAddresses {
  /** False when this machine cannot send from loopback aliases: every call then comes from one address. */
  readonly separate: boolean;
  /** An address for one case, never used before. */
  nextCase(): string | undefined;
  /** An address for the fuzzer's own calls (sign-in, seeding), never used by a case. */
  nextOwn(): string | undefined;
}

/**
 * Per-IP rate limits (Register, Login failures, Refresh, OAuth) exist against abuse from one
 * address; in a fuzz run they would answer ResourceExhausted in place of the input handling
 * under test after a few cases, and refuse the fuzzer's own sign-ins. Linux routes all of
 * 127.0.0.0/8 to loopback, so each case comes from an address of its own (127.1.x.y) and the
 * fuzzer's bookkeeping from others (127.2.x.y); elsewhere the run falls back to one address
 * and says so. Per-account limits still apply, as they should.
 */
export async function clientAddresses(sender: Sender): Promise<ClientAddresses> {
  const probe = await sender.get('/health/live', '127.2.255.254');
  const separate = probe.kind === 'answer' && probe.status === 200;
  const counter = (net: number) => {
    let n = 0;
    return () => {
      if (!separate) return undefined;
      const i = n++ % (254 * 254);
      return `127.${net}.${Math.floor(i / 254) + 1}.${(i % 254) + 1}`;
    };
  };
  return { separate, nextCase: counter(1), nextOwn: counter(2) };
}
