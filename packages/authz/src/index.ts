export {
  ACCESS_COOKIE,
  ACCESS_TOKEN_ALGORITHMS,
  type AccessTokenAlgorithm,
  type AccessTokenClaims,
  CSRF_COOKIE,
  CSRF_HEADER,
  JWKS_PATH,
  REFRESH_COOKIE,
} from './claims.js';
export { DENY_LIST_GRACE_MS, type DenyEntry, type SessionDenyList } from './deny-list.js';
export { type Identity, identityKey, type Role } from './identity.js';
export { AUTH_ERROR, type AuthzLogger } from './errors.js';
export {
  type TokenVerifier,
  type TokenVerifierOptions,
  type VerifiedToken,
  createTokenVerifier,
} from './verifier.js';
export { type Authenticator, authenticateToken, bearerToken, csrfMatches, parseCookies } from './credentials.js';
export { type AuthenticationOptions, authenticationInterceptor, requireIdentity } from './interceptor.js';
export { type UpgradeAuthOptions, type UpgradeCredentials, authenticateUpgrade } from './upgrade.js';
export { type PostgresDenyListOptions, PostgresSessionDenyList } from './postgres-deny-list.js';
export { type ReplicatedDenyListOptions, ReplicatedSessionDenyList } from './replicated-deny-list.js';
export { createSessionDenyList } from './deny-list-factory.js';
export {
  type BlockEvent,
  type ChatMessageEvent,
  MEMBERSHIP_CHANGES,
  type MembershipChange,
  type MembershipEvent,
  type PresenceSharingEvent,
  blocksTopic,
  presenceSharingTopic,
  membershipTopic,
  type ReadMarkerEvent,
  type TypingEvent,
  chatMessageTopic,
  readMarkerTopic,
  typingTopic,
  sessionRevokedTopic,
} from './topics.js';
export { AUTHZ_SCHEMA, authzMigrations, migrateAuthz } from './migrations.js';
export { SERVICE_TOKEN_HEADER, type ServiceIdentity, ServiceTokens, serviceIdentityKey } from './service-token.js';
export { type Caller, callerFrom, hasAnyRole, isStaff, requireCaller } from './caller.js';
export {
  type AuthorizationSources,
  type BlockSource,
  type CircleAccess,
  type CircleLevel,
  type CircleRole,
  DENIED,
  type Decision,
  type MembershipSource,
  type Rule,
  type RuleTable,
  type ServiceRules,
  decide,
  defineRules,
  fieldsNamed,
  readField,
  rule,
} from './rules.js';
export { type AuthorizationOptions, authorizationInterceptor } from './authorization.js';
export {
  AUTHZ_CACHE_TTL_MS,
  CachedBlocks,
  CachedMemberships,
  createAuthorizationSources,
  remoteBlocks,
  remoteMemberships,
} from './sources.js';
export { fieldError, fieldViolation, jsonPath, violationAt } from './violations.js';
export { CachedUserCircles, type UserCirclesSource, remoteUserCircles } from './user-circles.js';
export { assertMayWrite, isMember, mutedError } from './circle-writes.js';
