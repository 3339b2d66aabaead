import { type Interceptor, Code, ConnectError } from '@connectrpc/connect';
import { createValidator } from '@bufbuild/protovalidate';
import { fieldError } from '@hearth/authz';

/**
 * protovalidate on every request (the last step before the handler), answering violations the
 * same way every other field error is answered (fieldError: JSON field names, Violations in the
 * details). Streams are not validated here: Hearth's RPCs are unary, and the authorization step
 * refuses streaming calls before this runs.
 */
export function validationInterceptor(): Interceptor {
  const validator = createValidator();
  return (next) => async (req) => {
    if (!req.stream) {
      const result = validator.validate(req.method.input, req.message);
      if (result.kind === 'invalid') throw fieldError(result.error.violations);
      if (result.kind === 'error') {
        // A rule that cannot be evaluated is our bug, not the caller's input.
        throw new ConnectError('request validation failed', Code.Internal, undefined, undefined, result.error);
      }
    }
    return next(req);
  };
}
