import { inspect } from 'node:util';

const REDACTED = '[secret]';

/**
 * A configuration value that must never reach a log line. Printing, JSON-serialising or
 * inspecting it yields "[secret]"; code that needs the value calls `reveal()` on purpose.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
