// Rewrites the file named by the first argument in place with 3,000 bytes, under a file-size
// limit set by the caller below that (run by atomic_write_test.ts); prints the error's message.
import { rewriteInPlace } from "../../src/io/atomic_write.ts";

try {
  await rewriteInPlace(Deno.args[0]!, "x".repeat(3000));
  console.log("written");
} catch (err) {
  console.log((err as Error).message);
}
