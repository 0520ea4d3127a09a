// The operator kit in deploy/: Prometheus rules (checked and unit-tested by promtool), the
// example scrape config, the Grafana dashboard, and their agreement with what adhash's /metrics
// really emits, down to a real Prometheus scraping a real adhash server.
import assert from "node:assert/strict";
import { MetricsHub } from "../../src/server/hub.ts";
import { startMetricsServer } from "../../src/server/start.ts";
import { replayTicks } from "../server/_fixtures.ts";
import { driftProblems, type Known } from "./_drift.ts";
import { servedExposition } from "./_exposition.ts";
import {
  alertCoverage,
  CONFIG,
  DASHBOARD,
  jobNames,
  PROMETHEUS_DIR,
  readRules,
  RULES,
  RULES_TEST,
} from "./_kit_files.ts";
import { selectors } from "./_promql.ts";
import { runTool, spawnTool } from "./_tools.ts";
import { removedAtUnload } from "../_helpers.ts";

const rulesText = await Deno.readTextFile(RULES);
const rules = readRules(rulesText);
const configText = await Deno.readTextFile(CONFIG);
const dashboard = JSON.parse(await Deno.readTextFile(DASHBOARD)) as Record<string, unknown>;
const { exposition } = await servedExposition();
const known: Known = {
  exposition,
  records: new Set(rules.filter((r) => r.kind === "record").map((r) => r.name)),
  jobs: jobNames(configText),
};

type Json = Record<string, unknown>;

/** Every panel, rows' nested panels included. */
function panels(d: Json): Json[] {
  const out: Json[] = [];
  const walk = (list: unknown): void => {
    for (const p of (list as Json[] | undefined) ?? []) {
      out.push(p);
      walk(p.panels);
    }
  };
  walk(d.panels);
  return out;
}

/** Every PromQL expression of the dashboard: panel targets and `label_values(...)` variables. */
function dashboardExprs(d: Json): Array<{ where: string; expr: string }> {
  const out: Array<{ where: string; expr: string }> = [];
  for (const p of panels(d)) {
    for (const t of (p.targets as Json[] | undefined) ?? []) {
      out.push({ where: `panel "${p.title}" ${t.refId}`, expr: String(t.expr) });
    }
  }
  for (const v of ((d.templating as Json).list as Json[])) {
    if (v.type !== "query") continue;
    const q = typeof v.query === "string" ? v.query : String((v.query as Json).query);
    const m = /^label_values\((.+),\s*(\w+)\)$/.exec(q);
    assert.ok(m !== null, `variable ${v.name}: not a label_values() query: ${q}`);
    out.push({ where: `variable ${v.name}`, expr: m[1]! });
    // The label the variable lists must exist on that metric.
    const name = selectors(m[1]!)[0]?.name ?? "";
    if (m[2] !== "job" && m[2] !== "instance") {
      assert.ok(exposition.samples.get(name)?.has(m[2]!), `${name} has no label ${m[2]}`);
    }
  }
  return out;
}

async function tempDir(): Promise<string> {
  return removedAtUnload(await Deno.makeTempDir({ prefix: "adhash_deploy_" }));
}

/** Copies the example config and the rules, byte for byte, into `dir` (as an operator would). */
async function installKit(dir: string, config = configText): Promise<void> {
  await Deno.writeTextFile(`${dir}/prometheus.yml`, config);
  await Deno.writeTextFile(`${dir}/adhash_rules.yml`, rulesText);
}

Deno.test("adhash_rules.yml passes promtool check rules", async () => {
  const { code, out } = await runTool("promtool", ["check", "rules", RULES]);
  assert.equal(code, 0, out);
  assert.match(out, new RegExp(`SUCCESS: ${rules.length} rules found`), out);
  assert.ok(rules.some((r) => r.kind === "record") && rules.some((r) => r.kind === "alert"));
});

Deno.test("adhash_rules_test.yml passes promtool test rules", async () => {
  const { code, out } = await runTool(
    "promtool",
    ["test", "rules", "adhash_rules_test.yml"],
    PROMETHEUS_DIR,
  );
  assert.equal(code, 0, out);
  assert.match(out, /SUCCESS/);
});

Deno.test("adhash_rules_test.yml shows every alert both firing and quiet", async () => {
  const { firing, quiet } = alertCoverage(await Deno.readTextFile(RULES_TEST));
  const alerts = rules.filter((r) => r.kind === "alert").map((r) => r.name);
  assert.ok(alerts.length > 0);
  for (const name of alerts) {
    assert.ok(firing.has(name), `${name} is never expected to fire`);
    assert.ok(quiet.has(name), `${name} is never expected to stay quiet`);
  }
  for (const name of [...firing, ...quiet]) assert.ok(alerts.includes(name), `unknown ${name}`);
});

Deno.test("promtool test rules fails once an alert's threshold drifts from its tests", async () => {
  const dir = await tempDir();
  try {
    const drifted = rulesText.replace(
      "hashmap_load_factor > 0.9\n",
      "hashmap_load_factor > 0.95\n",
    );
    assert.notEqual(drifted, rulesText);
    await Deno.writeTextFile(`${dir}/adhash_rules.yml`, drifted);
    await Deno.copyFile(RULES_TEST, `${dir}/adhash_rules_test.yml`);
    const { code, out } = await runTool(
      "promtool",
      ["test", "rules", "adhash_rules_test.yml"],
      dir,
    );
    assert.equal(code, 1, out);
    assert.match(out, /FAILED[\s\S]*alertname: AdhashLoadFactorHigh/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("prometheus.yml passes promtool check config beside its rules and token file", async () => {
  const dir = await tempDir();
  try {
    await installKit(dir);
    // Without the token file the config is refused, naming it.
    const without = await runTool("promtool", ["check", "config", `${dir}/prometheus.yml`]);
    assert.equal(without.code, 1, without.out);
    assert.match(without.out, /adhash_token/);
    await Deno.writeTextFile(`${dir}/adhash_token`, "s3cret\n");
    const { code, out } = await runTool("promtool", ["check", "config", `${dir}/prometheus.yml`]);
    assert.equal(code, 0, out);
    assert.match(out, new RegExp(`SUCCESS: ${rules.length} rules found`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every series the rules select is one adhash's /metrics emits", () => {
  const problems = rules.flatMap((r) => driftProblems(`rule ${r.name}`, r.expr, known));
  assert.deepEqual(problems, []);
  // The rules read adhash's own series, not only Prometheus's `up`.
  const used = new Set(rules.flatMap((r) => selectors(r.expr).map((s) => s.name)));
  assert.ok([...used].filter((n) => exposition.samples.has(n ?? "")).length >= 8, [...used].join());
});

Deno.test("every series the Grafana dashboard queries is one adhash's /metrics emits", () => {
  const exprs = dashboardExprs(dashboard);
  assert.ok(exprs.length > 10);
  assert.deepEqual(exprs.flatMap(({ where, expr }) => driftProblems(where, expr, known)), []);
});

Deno.test("the Grafana dashboard charts every metric family adhash emits", () => {
  const used = new Set(
    dashboardExprs(dashboard).flatMap(({ expr }) => selectors(expr).map((s) => s.name ?? "")),
  );
  for (const [family, type] of exposition.families) {
    const names = type === "histogram" || type === "summary"
      ? [family, `${family}_bucket`, `${family}_count`, `${family}_sum`]
      : [family];
    assert.ok(names.some((n) => used.has(n)), `no panel shows ${family}`);
  }
});

Deno.test("the Grafana dashboard is importable: JSON, unique panel ids, a DS_PROMETHEUS input", () => {
  assert.ok((dashboard.schemaVersion as number) >= 39);
  const inputs = dashboard.__inputs as Json[];
  assert.deepEqual(inputs.map((i) => [i.name, i.type, i.pluginId]), [
    ["DS_PROMETHEUS", "datasource", "prometheus"],
  ]);
  const all = panels(dashboard);
  const ids = all.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, `duplicate panel ids: ${ids.join(",")}`);
  assert.ok(ids.every((id) => Number.isInteger(id)));
  const ds = { type: "prometheus", uid: "${DS_PROMETHEUS}" };
  for (const p of all) {
    assert.deepEqual(p.datasource, ds, `panel ${p.title}`);
    for (const t of p.targets as Json[]) assert.deepEqual(t.datasource, ds, `${p.title}`);
    const g = p.gridPos as Record<string, number>;
    assert.ok(g.x! >= 0 && g.w! > 0 && g.x! + g.w! <= 24 && g.h! > 0, `panel ${p.title} gridPos`);
  }
  // Panels do not overlap on the 24-column grid.
  for (const [i, a] of all.entries()) {
    for (const b of all.slice(i + 1)) {
      const [ga, gb] = [a.gridPos, b.gridPos] as Array<Record<string, number>>;
      const apart = ga!.x! + ga!.w! <= gb!.x! || gb!.x! + gb!.w! <= ga!.x! ||
        ga!.y! + ga!.h! <= gb!.y! || gb!.y! + gb!.h! <= ga!.y!;
      assert.ok(apart, `panels "${a.title}" and "${b.title}" overlap`);
    }
  }
});

Deno.test("selectors() reads names and matchers, skipping functions, clauses, ranges and variables", () => {
  const expr =
    `sum by (job, instance) (rate(hashmap_ops_total{op!="x",le=~"0.5|1"}[$__rate_interval]))
    and on (job) group_left (name) max without (le) (up{job="adhash"}) offset 5m > bool 1e3
    # a comment naming not_a_metric
    or histogram_quantile(0.99, rec:name:rate5m) * ignoring (op) {__name__="bare"}`;
  assert.deepEqual(selectors(expr), [
    {
      name: "hashmap_ops_total",
      matchers: [{ label: "op", op: "!=", value: "x" }, { label: "le", op: "=~", value: "0.5|1" }],
    },
    { name: "up", matchers: [{ label: "job", op: "=", value: "adhash" }] },
    { name: "rec:name:rate5m", matchers: [] },
    { name: null, matchers: [{ label: "__name__", op: "=", value: "bare" }] },
  ]);
  assert.throws(() => selectors("rate(x{op=})"), SyntaxError);
});

Deno.test("driftProblems() reports an unknown metric, label, label value and job", () => {
  const problems = driftProblems(
    "t",
    'hashmap_bogus_total + hashmap_latency_ms{op="all",shard="1"} + up{job="nope"}',
    known,
  );
  assert.deepEqual(problems, [
    "t: hashmap_bogus_total is not emitted by adhash's /metrics",
    't: no hashmap_latency_ms series has op="all"',
    "t: hashmap_latency_ms has no label shard",
    't: job="nope" is not a job of the example config',
  ]);
  assert.deepEqual(driftProblems("t", 'hashmap_latency_ms{op="get",quantile="0.99"}', known), []);
});

/** A free loopback port (bound, then released for the next process to take). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function getJson(url: string): Promise<Json> {
  const res = await fetch(url);
  return await res.json() as Json;
}

Deno.test("Prometheus scrapes adhash through the example config's token file and evaluates every rule", async () => {
  const TOKEN = "deploy-test-token";
  const { ticks } = await replayTicks({ ops: 80_000, keySpace: 20_000 });
  const hub = new MetricsHub();
  const server = await startMetricsServer({ hub, token: TOKEN, host: "127.0.0.1", port: "auto" });
  hub.publish(ticks[0]!);
  let next = 1;
  const publisher = setInterval(() => {
    if (next < ticks.length) hub.publish(ticks[next++]!);
  }, 150);
  const dir = await tempDir();
  let prometheus: ReturnType<typeof spawnTool> | null = null;
  try {
    // The token is required: only the token file can make the scrape succeed.
    const open = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    await open.body?.cancel();
    assert.equal(open.status, 401);

    // The example config as installed, pointed at this server, with a dead replay port and
    // 1-second intervals so the test does not wait minutes.
    const edits: Array<[string | RegExp, string]> = [
      ["127.0.0.1:9400", `127.0.0.1:${server.port}`],
      ["127.0.0.1:9401", `127.0.0.1:${freePort()}`],
      [/scrape_interval: 15s/, "scrape_interval: 1s"],
      [/evaluation_interval: 15s/, "evaluation_interval: 1s"],
    ];
    let config = configText;
    for (const [from, to] of edits) {
      const edited = config.replace(from, to);
      assert.notEqual(edited, config, `prometheus.yml no longer contains ${from}`);
      config = edited;
    }
    await installKit(dir, config);
    await Deno.writeTextFile(`${dir}/adhash_token`, `${TOKEN}\n`);
    const port = freePort();
    prometheus = spawnTool("prometheus", [
      `--config.file=${dir}/prometheus.yml`,
      `--storage.tsdb.path=${dir}/data`,
      `--web.listen-address=127.0.0.1:${port}`,
    ]);
    const api = `http://127.0.0.1:${port}/api/v1`;
    const query = async (q: string): Promise<Json[]> =>
      ((await getJson(`${api}/query?query=${encodeURIComponent(q)}`)).data as Json)
        .result as Json[];

    let state = "prometheus did not start";
    const deadline = Date.now() + 45_000;
    for (;;) {
      if (Date.now() > deadline) assert.fail(`timed out: ${state}\n${await stopped(prometheus)}`);
      await new Promise((r) => setTimeout(r, 500));
      try {
        const targets = ((await getJson(`${api}/targets`)).data as Json).activeTargets as Json[];
        const health = Object.fromEntries(
          targets.map((t) => [(t.labels as Json).job, `${t.health} ${t.lastError}`]),
        );
        state = `targets ${JSON.stringify(health)}`;
        if (health.adhash !== "up " || !String(health.adhash_replay).startsWith("down")) continue;
        const groups = ((await getJson(`${api}/rules`)).data as Json).groups as Json[];
        const loaded = groups.flatMap((g) => g.rules as Json[]);
        state = `rules ${JSON.stringify(loaded.map((r) => [r.name, r.health, r.lastError]))}`;
        assert.deepEqual(loaded.map((r) => r.name).sort(), rules.map((r) => r.name).sort());
        if (!loaded.every((r) => r.health === "ok")) continue;
        const rate = await query('instance:hashmap_ops:rate5m{job="adhash"}');
        const byOp = await query('instance_op:hashmap_ops:rate5m{job="adhash"}');
        const p99 = await query('instance_op:hashmap_latency_ms:p99_5m{job="adhash",op="overall"}');
        state = `records ${JSON.stringify({ rate, byOp, p99 })}`;
        const value = (s: Json | undefined): number => Number((s?.value as unknown[])?.[1]);
        if (!(value(rate[0]) > 0) || byOp.length !== 3 || !Number.isFinite(value(p99[0]))) continue;
        assert.deepEqual(byOp.map((s) => (s.metric as Json).op).sort(), ["del", "get", "put"]);
        // A live, healthy server: the down alerts stay quiet.
        const alerts = await query('ALERTS{alertname=~"AdhashServer.*"}');
        assert.deepEqual(alerts, []);
        break;
      } catch (err) {
        if (err instanceof TypeError) continue; // not listening yet
        throw err;
      }
    }
  } finally {
    clearInterval(publisher);
    if (prometheus !== null) await stopped(prometheus);
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** Stops a spawned tool (once) and returns what it printed. */
async function stopped(p: ReturnType<typeof spawnTool>): Promise<string> {
  try {
    p.child.kill("SIGTERM");
  } catch {
    // already exited
  }
  await p.child.status;
  return await p.output();
}
