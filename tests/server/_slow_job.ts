// Stands in for hashmap-cli in the job service tests: a job that runs until it is stopped.
// It logs one JSON line, then waits. SIGTERM ends it with 143, as the CLI does, unless
// SLOW_JOB_IGNORE_TERM=1, when only SIGKILL ends it. SLOW_JOB_TEMP=1 makes it leave temporary
// files in its --metrics-out-dir, named as a write under way names them.
const line = (message: string): string =>
  `${JSON.stringify({ "@timestamp": new Date().toISOString(), level: "INFO", message })}\n`;
const stderr = (text: string): void => {
  Deno.stderr.writeSync(new TextEncoder().encode(text));
};
Deno.addSignalListener("SIGTERM", () => {
  if (Deno.env.get("SLOW_JOB_IGNORE_TERM") === "1") return;
  stderr(line("stopping on SIGTERM"));
  Deno.exit(143);
});
const dir = Deno.args[Deno.args.indexOf("--metrics-out-dir") + 1];
if (Deno.env.get("SLOW_JOB_TEMP") === "1" && dir !== undefined) {
  Deno.writeTextFileSync(`${dir}/.snapshot.bin.${Deno.pid}.12345.tmp`, "partial");
  Deno.mkdirSync(`${dir}/sub`);
  Deno.writeTextFileSync(`${dir}/sub/.metrics.json.${Deno.pid}.678.tmp`, "partial");
}
stderr(line(`working on ${Deno.args.join(" ")}`));
stderr(line(`parent ${Deno.env.get("ADHASH_JOB_PARENT_PID")}`));
stderr("a plain text line\n");
setInterval(() => {}, 1000);
