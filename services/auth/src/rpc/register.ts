import type { Handlers, RpcDeps } from './context.js';
import { deliver, requestMeta } from './context.js';

export function register(deps: RpcDeps): Handlers['register'] {
  return async (req, ctx) => {
    const tokens = await deps.auth.register(
      {
        email: req.email,
        password: req.password,
        handle: req.handle,
        displayName: req.displayName,
        deviceName: req.deviceName,
      },
      requestMeta(ctx, deps),
    );
    return { tokens: deliver(tokens, req.tokenDelivery, ctx, deps.now()) };
  };
}
