import type { DescMessage } from '@bufbuild/protobuf';
import type { Path } from '@bufbuild/protobuf/reflect';
import { Code, ConnectError } from '@connectrpc/connect';
import { Violation, violationsToProto } from '@bufbuild/protovalidate';

/**
 * The one shape of a field error, whoever finds it (protovalidate, the input checks, the
 * authorization step, a page token): InvalidArgument whose message names each field as JSON
 * clients spell it ("circleId", "members[2].userId") and whose details carry
 * buf.validate.Violations, so apps can show each problem next to its field.
 */
export function fieldError(violations: readonly Violation[]): ConnectError {
  const [first, ...rest] = violations;
  const message = first
    ? `${describe(first)}${rest.length > 0 ? `, and ${rest.length} more violation${rest.length > 1 ? 's' : ''}` : ''}`
    : 'invalid request';
  const [value, desc] = violationsToProto([...violations]);
  return new ConnectError(message, Code.InvalidArgument, undefined, [{ desc, value }]);
}

/** A violation of a rule of our own (not protovalidate's) on a top-level field of a request. */
export function fieldViolation(schema: DescMessage, localName: string, ruleId: string, message: string): Violation {
  const field = schema.fields.find((f) => f.localName === localName);
  if (!field) throw new Error(`${schema.typeName} has no field ${localName}`);
  return new Violation(message, ruleId, [field], [], false);
}

/** A violation at any path (the input checks walk nested messages and lists). */
export function violationAt(path: Path, ruleId: string, message: string): Violation {
  return new Violation(message, ruleId, path, [], false);
}

function describe(v: Violation): string {
  const path = jsonPath(v.field);
  return path ? `${path}: ${v.message}` : v.message;
}

/** A path as a JSON client spells it: json names, [index] for lists, ["key"] for maps. */
export function jsonPath(path: Path): string {
  let out = '';
  for (const item of path) {
    switch (item.kind) {
      case 'field':
        out += `${out ? '.' : ''}${item.jsonName}`;
        break;
      case 'extension':
        out += `${out ? '.' : ''}[${item.typeName}]`;
        break;
      case 'oneof':
        break;
      case 'list_sub':
        out += `[${item.index}]`;
        break;
      case 'map_sub':
        out += `[${JSON.stringify(typeof item.key === 'bigint' ? item.key.toString() : item.key)}]`;
        break;
    }
  }
  return out;
}
