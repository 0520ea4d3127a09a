import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { filePath } from "../../src/cli/self_command.ts";

Deno.test("filePath() gives the path node:url's fileURLToPath() gives", () => {
  for (
    const url of [
      "file:///home/u/adhash/cli.ts",
      "file:///tmp/with%20space/b%C3%A9.js",
      "file:///tmp/it's%25here.js",
    ]
  ) assert.equal(filePath(new URL(url), false), fileURLToPath(url), url);
  for (
    const [url, want] of [
      ["file:///C:/Users/u/cli.ts", "C:\\Users\\u\\cli.ts"],
      ["file:///c:/a%20b/x.js", "c:\\a b\\x.js"],
      ["file://server/share/dir/x.js", "\\\\server\\share\\dir\\x.js"],
    ]
  ) assert.equal(filePath(new URL(url!), true), want, url);
});
