/**
 * A problem an operator fixes (a missing setting, a port in use, a database that does not
 * answer), as opposed to a bug: printed as one clear message, without a stack trace.
 */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}
