import { createContextKey } from '@connectrpc/connect';

/** Where a call came from, as Fastify saw it (honouring the proxy settings). */
export interface ClientAddress {
  readonly ip: string;
  readonly userAgent: string;
}

/** Connect context key: handlers read `ctx.values.get(clientAddressKey)`. */
export const clientAddressKey = createContextKey<ClientAddress>({ ip: '', userAgent: '' }, { description: 'client address' });
