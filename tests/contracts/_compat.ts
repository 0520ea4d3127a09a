/**
 * Whether a contract's current JSON Schema is a compatible successor of its published one. The
 * two sides of a contract need different rules:
 *
 * - **Output** (a document adhash writes): a reader built on the published schema must accept
 *   every new document, and a reader built on the new one every old document. So nothing may
 *   change but new optional properties (and wording): no type, bound, enum, required list or
 *   openness may move in either direction.
 * - **Input** (a request or config adhash reads): everything the published schema accepted must
 *   still be accepted. Properties may be added if optional, required ones may become optional,
 *   enums may grow and bounds may widen; defaults must stay.
 *
 * It understands the keywords zod's `toJSONSchema` writes; any other keyword must stay as it was.
 * `type: [a, b]` and `anyOf: [{type: a}, {type: b}]` are one schema spelt two ways (the generator
 * writes the second, which strict validators take), and are compared as the same.
 *
 * One narrowing is allowed, and only where the caller names it (`narrowed`): an output field
 * published looser than the contract it was always documented as, and always filled with, may
 * become a `$ref` to that contract's definition, provided the published field schema accepts
 * everything the definition does (so readers of the published schema accept every new document).
 * That every document written before met the contract cannot be checked here: the caller's list
 * says so, field by field.
 *
 * @module
 */

/** A contract's side: see the module doc. */
export type Side = "input" | "output";

type Schema = Record<string, unknown>;

/** Keywords that only describe: they may change freely. */
const WORDING = new Set(["description", "title", "examples", "$comment", "$schema", "$id", "id"]);
/** Keywords the checker compares structurally (the rest must be equal). */
const STRUCTURAL = new Set([
  "$ref",
  "$defs",
  "type",
  "enum",
  "const",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "prefixItems",
  "anyOf",
  "oneOf",
  "propertyNames",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "minLength",
  "maxLength",
  "minItems",
  "maxItems",
]);
/** Lower bounds (an input's may only fall) and upper bounds (may only rise). */
const LOWER = ["minimum", "exclusiveMinimum", "minLength", "minItems"];
const UPPER = ["maximum", "exclusiveMaximum", "maxLength", "maxItems"];

/**
 * What makes `current` incompatible with `published` for a contract of `side`: one line per
 * problem, naming the JSON path (empty when compatible).
 */
export function compatibilityProblems(
  published: unknown,
  current: unknown,
  side: Side,
  narrowed: Readonly<Record<string, string>> = {},
): string[] {
  const problems: string[] = [];
  compare(
    { root: published as Schema, node: published as Schema },
    { root: current as Schema, node: current as Schema },
    "$",
    { side, narrowed, problems, visiting: new Set() },
  );
  return problems;
}

interface Run {
  side: Side;
  /** JSON path (as in the problems) -> the `$defs` name of the contract the field became. */
  narrowed: Readonly<Record<string, string>>;
  problems: string[];
  visiting: Set<string>;
}

interface At {
  root: Schema;
  node: Schema;
}

function compare(pubAt: At, curAt: At, path: string, run: Run): void {
  const { side, problems, visiting } = run;
  const contract = run.narrowed[path];
  if (contract !== undefined) {
    narrowing(pubAt, curAt, path, contract, run);
    return;
  }
  // A boolean schema (true: anything, false: nothing) is compared as a value.
  if (typeof pubAt.node !== "object" || typeof curAt.node !== "object") {
    const wider = side === "input" &&
      (pubAt.node as unknown === false || curAt.node as unknown === true);
    if (!wider && !equal(pubAt.node, curAt.node)) {
      problems.push(`${path}: ${show(pubAt.node)} became ${show(curAt.node)}`);
    }
    return;
  }
  const pub = spelled(resolve(pubAt));
  const cur = spelled(resolve(curAt));
  // A definition compared once is enough, and a recursive one would not end.
  if (typeof pubAt.node.$ref === "string") {
    const pair = `${pubAt.node.$ref}|${String(curAt.node.$ref)}`;
    if (visiting.has(pair)) return;
    visiting.add(pair);
  }
  const bad = (what: string): void => void problems.push(`${path}: ${what}`);
  const sub = (p: unknown, c: unknown, where: string): void =>
    compare(
      { root: pubAt.root, node: p as Schema },
      { root: curAt.root, node: c as Schema },
      where,
      run,
    );

  // Anything else (default, pattern, format, ...) stays as it was.
  for (const key of new Set([...Object.keys(pub), ...Object.keys(cur)])) {
    if (WORDING.has(key) || STRUCTURAL.has(key) || equal(pub[key], cur[key])) continue;
    bad(`"${key}" changed from ${show(pub[key])} to ${show(cur[key])}`);
  }

  // type: an input may accept more types (an integer may become any number).
  const pubTypes = types(pub);
  const curTypes = types(cur);
  if (side === "output" ? !equal(pubTypes, curTypes) : !covers(curTypes, pubTypes)) {
    bad(`type ${show(pubTypes)} became ${show(curTypes)}`);
  }

  // enum and const: the values a field may take.
  const pubValues = values(pub);
  const curValues = values(cur);
  if (pubValues !== null || curValues !== null) {
    if (side === "output") {
      if (!equal(pubValues, curValues)) bad(`values ${show(pubValues)} became ${show(curValues)}`);
    } else if (curValues !== null) {
      const missing = (pubValues ?? [null]).filter((v) => !curValues.some((c) => equal(c, v)));
      if (pubValues === null || missing.length > 0) {
        bad(`values ${show(pubValues ?? "any")} became ${show(curValues)}`);
      }
    }
  }

  // Bounds: an input's may only widen.
  for (const key of [...LOWER, ...UPPER]) {
    const p = pub[key] as number | undefined;
    const c = cur[key] as number | undefined;
    if (p === c) continue;
    const widened = c === undefined || (p !== undefined && (LOWER.includes(key) ? c < p : c > p));
    if (side === "output" || !widened) bad(`"${key}" ${show(p)} became ${show(c)}`);
  }

  // Objects.
  const pubProps = (pub.properties ?? {}) as Schema;
  const curProps = (cur.properties ?? {}) as Schema;
  for (const name of Object.keys(pubProps)) {
    if (!(name in curProps)) bad(`property "${name}" was removed`);
    else sub(pubProps[name], curProps[name], `${path}.${name}`);
  }
  const pubRequired = new Set((pub.required ?? []) as string[]);
  const curRequired = new Set((cur.required ?? []) as string[]);
  for (const name of curRequired) {
    if (!pubRequired.has(name)) {
      bad(`property "${name}" became required`);
    }
  }
  if (side === "output") {
    for (const name of pubRequired) {
      if (!curRequired.has(name)) bad(`property "${name}" is no longer always written`);
    }
  }
  const pubOpen = pub.additionalProperties;
  const curOpen = cur.additionalProperties;
  const added = Object.keys(curProps).filter((name) => !(name in pubProps));
  if (side === "output" && pubOpen === false && added.length > 0) {
    bad(`properties ${show(added)} added to an object published closed`);
  }
  if (typeof pubOpen === "object" && typeof curOpen === "object") {
    sub(pubOpen, curOpen, `${path}.*`);
  } else if (!equal(pubOpen, curOpen) && pubOpen !== false) {
    // Opening a closed object accepts more and writes nothing new; closing one refuses more.
    bad(`additionalProperties ${show(pubOpen ?? "open")} became ${show(curOpen ?? "open")}`);
  }
  if (pub.propertyNames !== undefined || cur.propertyNames !== undefined) {
    sub(pub.propertyNames ?? {}, cur.propertyNames ?? {}, `${path}{names}`);
  }

  // Arrays.
  if (pub.items !== undefined || cur.items !== undefined) {
    if (pub.items === undefined || cur.items === undefined) bad(`"items" added or removed`);
    else sub(pub.items, cur.items, `${path}[]`);
  }
  const pubPrefix = (pub.prefixItems ?? []) as unknown[];
  const curPrefix = (cur.prefixItems ?? []) as unknown[];
  if (pubPrefix.length !== curPrefix.length) {
    bad(`prefixItems ${pubPrefix.length} became ${curPrefix.length}`);
  } else pubPrefix.forEach((p, i) => sub(p, curPrefix[i], `${path}[${i}]`));

  // Alternatives: an input may gain some; each published one keeps its place.
  for (const key of ["anyOf", "oneOf"]) {
    const p = (pub[key] ?? []) as unknown[];
    const c = (cur[key] ?? []) as unknown[];
    if (
      side === "output"
        ? p.length !== c.length
        : c.length < p.length || (p.length === 0 && c.length > 0)
    ) {
      bad(`${key} of ${p.length} became ${c.length}`);
      continue;
    }
    p.forEach((branch, i) => sub(branch, c[i], `${path}|${i}`));
  }
}

/**
 * The one narrowing allowed (see the module doc): at `path`, the published field may become
 * exactly a `$ref` to `#/$defs/<contract>` (and wording) when it accepts all that definition does.
 */
function narrowing(pubAt: At, curAt: At, path: string, contract: string, run: Run): void {
  const bad = (what: string): void => void run.problems.push(`${path}: ${what}`);
  if (run.side !== "output") return bad("only an output field may be narrowed to a contract");
  const cur = curAt.node as unknown;
  const ref = `#/$defs/${contract}`;
  if (
    typeof cur !== "object" || cur === null ||
    !Object.keys(cur).every((k) => k === "$ref" || WORDING.has(k)) ||
    (cur as Schema).$ref !== ref
  ) {
    return bad(`narrowed to ${contract}, so it must be {"$ref": "${ref}"}: ${show(cur)}`);
  }
  if (!accepts(pubAt, curAt)) {
    bad(`the published ${show(pubAt.node)} does not accept every ${contract} document`);
  }
}

/**
 * Whether every value `narrow` accepts is one `wide` accepts. Conservative: false whenever
 * `wide` uses a keyword this does not reason about, so a true answer is always right.
 */
function accepts(wideAt: At, narrowAt: At): boolean {
  const w = wideAt.node as unknown;
  const n = narrowAt.node as unknown;
  if (w === true || n === false) return true;
  if (typeof w !== "object" || w === null) return false;
  if (typeof n !== "object" || n === null) return false;
  const wide = spelled(resolve(wideAt));
  const narrow = spelled(resolve(narrowAt));
  const at = (root: Schema, node: unknown): At => ({ root, node: node as Schema });
  // A value of `narrow` meets one of its branches (and its other keywords as well).
  for (const key of ["anyOf", "oneOf"]) {
    const branches = narrow[key];
    if (
      Array.isArray(branches) && branches.length > 0 &&
      branches.every((b) => accepts(wideAt, at(narrowAt.root, b)))
    ) return true;
  }
  const known = ["type", "const", "enum", "properties", "required", "additionalProperties"];
  if (!Object.keys(wide).every((k) => WORDING.has(k) || known.includes(k))) return false;
  const wideTypes = types(wide);
  if (wideTypes !== null && !covers(wideTypes, types(narrow))) return false;
  const wideValues = values(wide);
  const narrowValues = values(narrow);
  if (
    wideValues !== null &&
    (narrowValues === null || !narrowValues.every((v) => wideValues.some((x) => equal(x, v))))
  ) return false;
  const narrowRequired = (narrow.required ?? []) as string[];
  if (!((wide.required ?? []) as string[]).every((name) => narrowRequired.includes(name))) {
    return false;
  }
  const narrowProps = (narrow.properties ?? {}) as Schema;
  for (const [name, schema] of Object.entries((wide.properties ?? {}) as Schema)) {
    if (!(name in narrowProps)) return false;
    if (!accepts(at(wideAt.root, schema), at(narrowAt.root, narrowProps[name]))) return false;
  }
  const open = wide.additionalProperties;
  return open === undefined || open === true ||
    (typeof open === "object" && open !== null && Object.keys(open).length === 0);
}

/**
 * `s` with a `type` listing more than one type besides `null` spelt as `anyOf` of one type each
 * (as the generator writes it): the same schema.
 */
function spelled(s: Schema): Schema {
  const type = s.type;
  if (!Array.isArray(type) || type.filter((t) => t !== "null").length < 2 || "anyOf" in s) {
    return s;
  }
  const { type: _, ...rest } = s;
  return { ...rest, anyOf: type.map((t) => ({ type: t })) };
}

/** The node a `$ref` into `#/$defs/` names, or the node itself. */
function resolve(at: At): Schema {
  const ref = at.node.$ref;
  if (typeof ref !== "string") return at.node;
  const m = /^#\/\$defs\/(.+)$/.exec(ref);
  const defs = at.root.$defs as Schema | undefined;
  const target = m === null ? undefined : defs?.[m[1]!];
  if (target === undefined) throw new SyntaxError(`Unresolvable $ref ${JSON.stringify(ref)}`);
  return {
    ...(target as Schema),
    ...Object.fromEntries(Object.entries(at.node).filter(([k]) => k !== "$ref")),
  };
}

function types(s: Schema): string[] | null {
  if (s.type === undefined) return null;
  return (Array.isArray(s.type) ? [...s.type] : [s.type as string]).sort();
}

/** Whether `wide` accepts every type `narrow` does (null: any type). */
function covers(wide: string[] | null, narrow: string[] | null): boolean {
  if (wide === null) return true;
  if (narrow === null) return false;
  return narrow.every((t) => wide.includes(t) || (t === "integer" && wide.includes("number")));
}

function values(s: Schema): unknown[] | null {
  if ("const" in s) return [s.const];
  return Array.isArray(s.enum) ? s.enum : null;
}

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (typeof v !== "object" || v === null) return v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Schema)[k])]));
}

function show(v: unknown): string {
  return v === undefined ? "none" : JSON.stringify(v);
}
