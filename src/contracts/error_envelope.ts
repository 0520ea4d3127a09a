/**
 * The CLI error envelope: the last stderr line of every failing command. Frozen.
 *
 * @module
 */

import { z } from "zod";

/** `{"error":"<Code>","detail":"...","hint":"..."}`; `hint` may be absent. */
export const ErrorEnvelope = z.object({
  error: z.enum(["BadInput", "Invariant", "Policy", "IO", "Internal"]),
  detail: z.string(),
  hint: z.string().optional(),
}).meta({ id: "error_envelope", title: "adhash CLI error envelope" });

/** A parsed error envelope. */
export type ErrorEnvelope = z.infer<typeof ErrorEnvelope>;

/** `--json` success: `{"ok":true,"command":"<name>", ...data}` on one stdout line. */
export const SuccessEnvelope = z.object({
  ok: z.literal(true),
  command: z.string().min(1),
}).loose().meta({ id: "success_envelope", title: "adhash CLI --json success line" });

/** A parsed success envelope. */
export type SuccessEnvelope = z.infer<typeof SuccessEnvelope>;
