/**
 * Explicit types for zod schemas. JSR checks a published API fast only when it need not infer
 * types, so every contract schema is declared with a written type; `exact()` makes that type
 * exactly what the schema builds, so a field added to a schema and not to its type fails to
 * compile.
 *
 * @module
 */

type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;

/** `exact<T>()(schema)`: `schema` typed as `T`, a compile error unless its type is exactly `T`. */
export function exact<T>(): <S extends T>(
  schema: S & (Same<S, T> extends true ? unknown : never),
) => T {
  return (schema) => schema;
}
