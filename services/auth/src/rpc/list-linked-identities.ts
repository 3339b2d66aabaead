import { requireIdentity } from '@hearth/authz';
import type { Handlers, RpcDeps } from './context.js';
import { linkedIdentity } from './mappers.js';

export function listLinkedIdentities(deps: RpcDeps): Handlers['listLinkedIdentities'] {
  return async (_req, ctx) => {
    const { identities, hasPassword } = await deps.oauth.list(requireIdentity(ctx));
    return { identities: identities.map(linkedIdentity), hasPassword };
  };
}
