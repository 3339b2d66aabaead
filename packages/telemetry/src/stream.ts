import { Code, ConnectError } from '@connectrpc/connect';

export interface StreamHooks {
  /** Runs each pull from the source, e.g. inside the RPC's trace context. */
  readonly around?: <R>(pull: () => R) => R;
  /** Called once when the stream ends: no argument on completion, the error otherwise. */
  readonly onEnd?: (err?: unknown) => void;
  /** Replaces an error thrown by the source before it reaches the consumer. */
  readonly mapError?: (err: unknown) => unknown;
}

/**
 * Wraps a streaming RPC's output so interceptors can observe how it ends. A streaming handler
 * runs while Connect pulls its output, long after `next()` has returned, so this is the only
 * place its errors and its duration can be seen.
 */
export function observeStream<T>(source: AsyncIterable<T>, hooks: StreamHooks): AsyncIterable<T> {
  const around = hooks.around ?? (<R>(pull: () => R): R => pull());
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const it = source[Symbol.asyncIterator]();
      let ended = false;
      const end = (err?: unknown): void => {
        if (ended) return;
        ended = true;
        if (err === undefined) hooks.onEnd?.();
        else hooks.onEnd?.(err);
      };
      const fail = (err: unknown): never => {
        const mapped = hooks.mapError ? hooks.mapError(err) : err;
        end(mapped);
        throw mapped;
      };
      return {
        async next() {
          try {
            const result = await around(() => it.next());
            if (result.done === true) end();
            return result;
          } catch (err) {
            return fail(err);
          }
        },
        async return(value?: unknown) {
          // The consumer stopped early (the client went away): the stream did not complete.
          end(new ConnectError('stream abandoned before it ended', Code.Canceled));
          if (it.return) return it.return(value);
          return { done: true, value: undefined };
        },
        async throw(err?: unknown) {
          const throwInto = it.throw?.bind(it);
          if (!throwInto) return fail(err);
          try {
            const result = await around(() => throwInto(err));
            if (result.done === true) end();
            return result;
          } catch (thrown) {
            return fail(thrown);
          }
        },
      };
    },
  };
}
