import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { requestContextKey } from '@hearth/telemetry';
import { callerFrom } from './caller.js';
import type { AuthzLogger } from './errors.js';
import { type AuthorizationSources, type ServiceRules, decide } from './rules.js';
import { fieldError, fieldViolation } from './violations.js';

export interface AuthorizationOptions {
  /** The rules of the service a call is for (by typeName, e.g. "hearth.user.v1.UserService"). */
  readonly rules: (serviceTypeName: string) => ServiceRules | undefined;
  readonly sources: AuthorizationSources;
  readonly logger?: AuthzLogger & { error(obj: object, msg: string): void };
}

/**
 * The authorization step of every Hearth server: after authentication, before protovalidate.
 * Default deny: a method without a rule is refused (and logged as a bug), so nothing new ships
 * unguarded. The decision is made from the caller (token subject or service identity), its
 * platform roles, the request fields the rule names, and what the sources say about circles
 * and blocks.
 */
export function authorizationInterceptor(opts: AuthorizationOptions): Interceptor {
  return (next) => async (req) => {
    const rc = req.contextValues.get(requestContextKey);
    const logger = () => rc?.logger ?? opts.logger;
    const r = opts.rules(req.service.typeName)?.ruleFor(req.method.name);
    if (!r) {
      logger()?.error?.({ rpc: `${req.service.typeName}/${req.method.name}` }, 'RPC has no authorization rule; refused');
      throw new ConnectError('this RPC is not available', Code.PermissionDenied);
    }
    if (req.stream) throw new ConnectError('streaming calls are not authorized here', Code.Unimplemented);
    const decision = await decide(r, callerFrom(req.contextValues), req.method.input, req.message, opts.sources);
    if (!decision.allow) {
      logger()?.debug({ rule: r.kind, code: decision.code }, 'authorization refused');
      if (decision.field) {
        throw fieldError([fieldViolation(req.method.input, decision.field, 'string.uuid', decision.message)]);
      }
      throw new ConnectError(decision.message, decision.code);
    }
    return next(req);
  };
}
