import { type DescField, type DescMessage, create } from '@bufbuild/protobuf';
import type { Path } from '@bufbuild/protobuf/reflect';
import { Code, ConnectError } from '@connectrpc/connect';
import { ViolationsSchema } from '@bufbuild/protovalidate/gen/buf/validate/validate_pb.js';
import { fieldError, violationAt } from '@hearth/authz';

const FIELD = /^cannot decode field ([\w.]+) from JSON: (.*)$/s;
const UNKNOWN_KEY = /^cannot decode message ([\w.]+) from JSON: key "(.*)" is unknown$/s;
const ENUM = /^cannot decode enum ([\w.]+) from JSON: (.*)$/s;
const LIST_ITEM = /^list item #(\d+): (.*)$/s;

/**
 * A request body that is JSON but not the request's shape (a string where a number goes, an
 * enum name that does not exist, text that is not UTF-8, a key the message does not have) is
 * refused by Connect before any interceptor runs, with protobuf-es's message. This gives it the
 * shape of every other field error: InvalidArgument with violations naming the field as JSON
 * clients spell it. Undefined for any other error.
 */
export function jsonDecodeError(input: DescMessage, message: string): ConnectError | undefined {
  const field = FIELD.exec(message);
  if (field) {
    const [, fullName = '', reason = ''] = field;
    const at = findField(input, (f, parent) => `${parent.typeName}.${f.name}` === fullName);
    if (!at) return undefined;
    const item = LIST_ITEM.exec(reason);
    const path: Path = item ? [...at.path, { kind: 'list_sub', index: Number(item[1]) - 1 }] : at.path;
    return fieldError([violationAt(path, 'hearth.json', item ? (item[2] ?? reason) : reason)]);
  }
  const enumValue = ENUM.exec(message);
  if (enumValue) {
    // protobuf-es does not say which field; the request's first field of that enum type is it
    // for every request Hearth has (none holds two fields of one enum type).
    const [, enumName = '', value = ''] = enumValue;
    const at = findField(input, (f) => f.enum?.typeName === enumName);
    if (!at) return undefined;
    return fieldError([violationAt(at.path, 'hearth.json', `${value} is not one of the enum's values`)]);
  }
  const unknown = UNKNOWN_KEY.exec(message);
  if (unknown) {
    const [, typeName = '', key = ''] = unknown;
    const at = typeName === input.typeName ? { jsonPath: '' } : findMessage(input, typeName);
    if (!at) return undefined;
    const name = at.jsonPath ? `${at.jsonPath}.${key}` : key;
    const violations = create(ViolationsSchema, {
      violations: [{ field: { elements: [{ fieldName: key }] }, ruleId: 'hearth.known_field', message: `${name}: no such field` }],
    });
    return new ConnectError(`${name}: no such field`, Code.InvalidArgument, undefined, [{ desc: ViolationsSchema, value: violations }]);
  }
  return undefined;
}

/** The path to the first field that `match`es, top-level fields first, then nested ones (bounded). */
function findField(
  root: DescMessage,
  match: (f: DescField, parent: DescMessage) => boolean,
  path: DescField[] = [],
  depth = 0,
): { path: DescField[] } | undefined {
  for (const f of root.fields) if (match(f, root)) return { path: [...path, f] };
  if (depth > 4) return undefined;
  for (const f of root.fields) {
    if (f.message) {
      const found = findField(f.message, match, [...path, f], depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

function findMessage(root: DescMessage, typeName: string, prefix = '', depth = 0): { jsonPath: string } | undefined {
  if (depth > 4) return undefined;
  for (const f of root.fields) {
    if (!f.message) continue;
    const jsonPath = prefix ? `${prefix}.${f.jsonName}` : f.jsonName;
    if (f.message.typeName === typeName) return { jsonPath };
    const found = findMessage(f.message, typeName, jsonPath, depth + 1);
    if (found) return found;
  }
  return undefined;
}
