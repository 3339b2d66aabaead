import type { DescField, DescMessage, JsonObject } from '@bufbuild/protobuf';
import type { Outcome } from './http.js';
import { type Path, valueAt, withValue } from './json.js';

/**
 * The baseline, with the fields protovalidate refused taken out (up to three rounds): a rule
 * the generator cannot read (a CEL expression) would otherwise refuse every case on that
 * field before the rest of the request is looked at.
 */
export async function repairedBaseline(input: DescMessage, start: JsonObject, send: (b: JsonObject) => Promise<Outcome>): Promise<{ baseline: JsonObject; answer: Outcome }> {
  let baseline = start;
  let answer = await send(baseline);
  for (let round = 0; round < 3 && answer.kind === 'answer' && answer.code === 'invalid_argument'; round++) {
    const paths = violatedPaths(input, answer.body).filter((p) => valueAt(baseline, p) !== undefined);
    if (paths.length === 0) break;
    for (const p of paths) baseline = withValue(baseline, p, undefined) as JsonObject;
    answer = await send(baseline);
  }
  return { baseline, answer };
}

/** JSON paths of the fields named in a protovalidate error's violations (buf.validate.Violations). */
function violatedPaths(input: DescMessage, errorBody: string): Path[] {
  type Element = { fieldName?: string; index?: number | string };
  let parsed: { details?: { debug?: { violations?: { field?: { elements?: Element[] } }[] } }[] };
  try {
    parsed = JSON.parse(errorBody) as typeof parsed;
  } catch {
    return [];
  }
  const out: Path[] = [];
  for (const v of parsed.details?.flatMap((d) => d.debug?.violations ?? []) ?? []) {
    let message: DescMessage | undefined = input;
    const path: (string | number)[] = [];
    for (const e of v.field?.elements ?? []) {
      const field: DescField | undefined = message?.fields.find((f) => f.name === e.fieldName);
      if (!field) break;
      path.push(field.jsonName);
      message = field.fieldKind === 'message' || (field.fieldKind === 'list' && field.listKind === 'message') ? field.message : undefined;
    }
    if (path.length > 0) out.push(path);
  }
  return out;
}
