import type { MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import { FlowIntent, IdentityProvider, type LinkedIdentitySchema } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import type { FlowIntentName, IdentityRow, ProviderName } from '../store/schema.js';

const PROVIDERS: ReadonlyMap<IdentityProvider, ProviderName> = new Map([
  [IdentityProvider.GOOGLE, 'google'],
  [IdentityProvider.APPLE, 'apple'],
]);
const PROVIDER_ENUMS: Record<ProviderName, IdentityProvider> = { google: IdentityProvider.GOOGLE, apple: IdentityProvider.APPLE };

/** Protovalidate refuses UNSPECIFIED first; this guards callers that skip the interceptor. */
export function providerName(p: IdentityProvider): ProviderName {
  const name = PROVIDERS.get(p);
  if (!name) throw new ConnectError('provider must be GOOGLE or APPLE', Code.InvalidArgument);
  return name;
}

export function intentName(i: FlowIntent): FlowIntentName {
  if (i === FlowIntent.SIGN_IN) return 'sign_in';
  if (i === FlowIntent.LINK) return 'link';
  throw new ConnectError('intent must be SIGN_IN or LINK', Code.InvalidArgument);
}

export function linkedIdentity(row: IdentityRow): MessageInitShape<typeof LinkedIdentitySchema> {
  return {
    provider: PROVIDER_ENUMS[row.provider],
    email: row.email ?? '',
    createTime: timestampFromDate(row.created_at),
    ...(row.last_used_at ? { lastUseTime: timestampFromDate(row.last_used_at) } : {}),
  };
}
