import type { Interceptor } from '@connectrpc/connect';
import { type ServiceRules, authenticationInterceptor, authorizationInterceptor } from '@hearth/authz';
import { errorLoggingInterceptor, telemetryInterceptor } from '@hearth/telemetry';
import type { Runtime, ServiceModule } from './contract.js';
import { inputInterceptor } from './input.js';
import { knownErrorsInterceptor } from './known-errors.js';
import { validationInterceptor } from './validation.js';

/**
 * Phase 3 of a host: the interceptors every RPC goes through, built once from the complete list
 * of hosted modules (their rule tables decide which methods are public and who may call what).
 * In this order, outermost first:
 *
 * 1. telemetry: request ids, the logger, the span, the metrics;
 * 2. error logging: every failure logged once with its code; unknown errors become Internal;
 * 3. known errors: database, page-token and version errors become the codes they promise;
 * 4. authentication: token or service token (an anonymous caller learns nothing of the shape);
 * 5. input: text the database cannot store refused, ids put in their one spelling;
 * 6. authorization: the service's rule table (default deny);
 * 7. protovalidate: the request's field rules.
 */
export function createRequestPipeline(runtime: Runtime, modules: readonly ServiceModule[]): Interceptor[] {
  const rules = new Map<string, ServiceRules>();
  const publicMethods = new Set<string>();
  for (const table of modules.flatMap((m) => m.rules)) {
    const typeName = table.service.typeName;
    if (rules.has(typeName)) throw new Error(`${typeName} is hosted twice`);
    rules.set(typeName, table);
    for (const method of table.service.methods) {
      if (table.ruleFor(method.name)?.kind === 'public') publicMethods.add(`${typeName}/${method.name}`);
    }
  }
  const { logger, metrics, tracer, sessions } = runtime;
  return [
    // Tracing off (the default): no spans at all, rather than non-recording ones per call.
    telemetryInterceptor({ logger, metrics, tracer: runtime.config.telemetry.tracingExporter === 'none' ? undefined : tracer }),
    errorLoggingInterceptor(),
    knownErrorsInterceptor(),
    authenticationInterceptor({
      verifier: sessions.verifier,
      denyList: sessions.denyList,
      isPublic: (service, method) => publicMethods.has(`${service}/${method}`),
      serviceTokens: runtime.serviceTokens,
      logger,
    }),
    inputInterceptor(),
    authorizationInterceptor({ rules: (typeName) => rules.get(typeName), sources: runtime.authorization, logger }),
    validationInterceptor(),
  ];
}
