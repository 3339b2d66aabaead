import type { Handlers, RpcDeps } from './context.js';
import { deliver, requestMeta } from './context.js';

export function login(deps: RpcDeps): Handlers['login'] {
  return async (req, ctx) => {
    const tokens = await deps.auth.login({ email: req.email, password: req.password, deviceName: req.deviceName }, requestMeta(ctx, deps));
    return { tokens: deliver(tokens, req.tokenDelivery, ctx, deps.now()) };
  };
}
