import type { JsonObject, JsonValue } from '@bufbuild/protobuf';

/**
 * JSON text that JSON.stringify cannot produce: numbers beyond doubles (2^64 exactly), -0,
 * nesting deeper than a recursive stringify survives. Written into the body verbatim.
 */
export class RawJson {
  constructor(readonly text: string) {}
}

/** A request body under construction: JSON values, with RawJson where exact text matters. */
export type Value = JsonValue | RawJson | Value[] | { [key: string]: Value };

/** A path into a request body: object keys and array indexes. */
export type Path = readonly (string | number)[];

const MARK = '\u0001raw';

/** Serialises `value`, splicing RawJson texts in where they occur. */
export function toJsonText(value: Value): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof RawJson) {
      raws.push(v.text);
      return `${MARK}${raws.length - 1}`;
    }
    return v;
  });
  if (raws.length === 0) return text;
  // JSON.stringify escapes U+0001 as \u0001, so the marker cannot collide with user text.
  return text.replace(/"\\u0001raw(\d+)"/g, (_m, i: string) => raws[Number(i)] as string);
}

/** A copy of `root` with the value at `path` replaced (or removed, for `undefined`). */
export function withValue(root: JsonObject, path: Path, value: Value | undefined): { [key: string]: Value } {
  const copy = structuredClone(root) as { [key: string]: Value };
  let node: Value = copy;
  for (const [i, key] of path.entries()) {
    const container = node as Record<string | number, Value>;
    if (i === path.length - 1) {
      if (value === undefined) delete container[key];
      else container[key] = value;
      break;
    }
    node = container[key] as Value;
    if (typeof node !== 'object' || node === null) throw new Error(`no value at ${path.slice(0, i + 1).join('.')}`);
  }
  return copy;
}

/** The value at `path`, if the body has one there. */
export function valueAt(root: JsonValue, path: Path): JsonValue | undefined {
  let node: JsonValue | undefined = root;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string | number, JsonValue>)[key];
  }
  return node;
}
