// The dashboard in a real browser (Debian's headless Chromium driven by playwright-core) against a live
// three-node cluster: it shows the nodes and the leader, records produced show in the partition offsets
// and the chart, a consumer group shows its member, assignment and lag, and after the leader is killed
// it shows the new leader and the dead node as down, without a reload. A screenshot is saved under
// test-output/dashboard-browser/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import type { Producer } from "../../src/client";
import { Cluster, startCluster } from "../support/cluster";
import { repoRoot } from "../support/repo-root";
import { waitFor } from "../support/wait";

const chromiumPath = "/usr/bin/chromium";
const outputDir = join(repoRoot, "test-output", "dashboard-browser");
const pageDeadlineMs = 20000;

let cluster: Cluster;
let browser: Browser;

const skip = existsSync(chromiumPath) ? false : `${chromiumPath} is missing (Debian package chromium)`;

before(async () => {
  if (skip) return;
  cluster = await startCluster({ extraArgs: ["--http-address", "127.0.0.1:0"], cleanupAfter: false });
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
});
after(async () => {
  await browser?.close();
  await cluster?.cleanup();
});

/** Roles the page shows per node id, read from the node cards. */
async function rolesOnPage(page: Page): Promise<Record<string, string>> {
  return page.$$eval(".node-card", (cards) => Object.fromEntries(cards.map((c) => [c.getAttribute("data-node") ?? "", c.getAttribute("data-role") ?? ""])));
}

/** Keeps producing small batches until stopped, so the chart has something to draw. */
function produceSteadily(producer: Producer, topic: string): { stop(): Promise<number> } {
  let running = true;
  let sent = 0;
  const loop = (async () => {
    while (running) {
      const records = Array.from({ length: 40 }, (_, i) => ({ key: `k${i % 6}`, value: `reading ${sent + i} ${"x".repeat(60)}` }));
      await producer.send({ topic, records });
      sent += records.length;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return sent;
    },
  };
}

test("the dashboard shows the cluster live and follows a leader change without a reload", { skip }, async (t) => {
  const leaderId = await cluster.waitForLeader(20000);
  const follower = cluster.nodes.find((n) => n.id !== leaderId);
  assert.ok(follower?.httpAddress, "a follower with an HTTP address");

  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, deviceScaleFactor: 1 });
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  await page.goto(`http://${follower.httpAddress}/`);
  await page.evaluate(() => Object.assign(globalThis, { loadedOnce: true }));

  // Three nodes, the leader marked.
  await waitFor(async () => {
    const roles = await rolesOnPage(page);
    return Object.keys(roles).length === 3 && roles[String(leaderId)] === "leader";
  }, pageDeadlineMs, "three node cards with the leader marked");

  // Records produced show in the partition offsets and the chart.
  const client = cluster.client();
  await client.admin().createTopic({ name: "sensor-readings", partitions: 3 });
  await client.admin().createTopic({ name: "orders", partitions: 2 });
  const producer = client.producer();
  await producer.send({ topic: "orders", records: Array.from({ length: 120 }, (_, i) => ({ key: `o${i}`, value: `order ${i}` })) });
  const traffic = produceSteadily(producer, "sensor-readings");
  await waitFor(
    async () => Number(await page.getAttribute("#panel-throughput .chart", "data-peak-records-per-second")) > 0,
    pageDeadlineMs,
    "the throughput chart to show records per second",
  );
  await waitFor(async () => {
    const hw = await page.$$eval('tr[data-topic="orders"] td.hw', (cells) => cells.reduce((n, c) => n + Number((c.textContent ?? "0").replace(/,/g, "")), 0));
    return hw === 120;
  }, pageDeadlineMs, "the orders partitions to add up to 120 records");

  // A consumer group member that has processed 100 of the 120 orders: the groups panel shows it owning
  // both partitions, and a lag of 20.
  let unblock: () => void = () => undefined;
  const blocked = new Promise<void>((resolve) => (unblock = resolve));
  const member = client.consumer({ groupId: "order-audit", clientId: "auditor", autoCommit: false });
  member.subscribe({ topics: ["orders"] });
  let handled = 0;
  const running = member.run({
    eachMessage: async () => {
      if (++handled > 100) await blocked;
    },
  });
  await waitFor(() => handled > 100, pageDeadlineMs, "the member to process 100 orders");
  await member.commit();
  await waitFor(async () => {
    const card = await page.$('.group-card[data-group="order-audit"]');
    if (!card) return false;
    const members = await card.$$eval("li.member", (items) => items.map((li) => li.querySelectorAll(".tp.owned").length));
    const lag = await card.$$eval("td.lag", (cells) => cells.reduce((n, c) => n + Number((c.textContent ?? "0").replace(/,/g, "")), 0));
    return members.length === 1 && members[0] === 2 && lag === 20 && (await card.getAttribute("data-state")) === "stable";
  }, pageDeadlineMs, "the groups panel to show order-audit's member owning both partitions and a lag of 20");

  // A work queue on the orders: 5 taken under a long lock, 2 of them accepted. The queues panel shows 3
  // locked and a depth of 118.
  const fulfilment = client.queue({ group: "order-fulfilment", topic: "orders", config: { lockTimeoutMs: 600_000 } });
  const taken = await fulfilment.pop({ maxRecords: 5, timeoutMs: 5000 });
  assert.equal(taken.length, 5);
  await Promise.all(taken.slice(0, 2).map((d) => d.ack()));
  await waitFor(async () => {
    const card = await page.$('.group-card[data-queue="order-fulfilment"]');
    if (!card) return false;
    const sum = (cls: string): Promise<number> => card.$$eval(`td.${cls}`, (cells) => cells.reduce((n, c) => n + Number((c.textContent ?? "0").replace(/,/g, "")), 0));
    return (await sum("acquired")) === 3 && (await sum("depth")) === 118;
  }, pageDeadlineMs, "the queues panel to show order-fulfilment with 3 locked and a depth of 118");

  // Kill the leader: the page, served by a follower, shows the new leader and the dead node as down.
  await cluster.kill(leaderId);
  const newLeader = await cluster.waitForLeader(20000);
  await waitFor(async () => {
    const roles = await rolesOnPage(page);
    return roles[String(leaderId)] === "down" && roles[String(newLeader)] === "leader";
  }, pageDeadlineMs, `node ${leaderId} shown down and node ${newLeader} as leader`);
  await waitFor(
    () => page.$$eval(".leader-list li", (items) => items.map((li) => li.getAttribute("data-leader"))).then((ids) => ids.includes(String(newLeader))),
    pageDeadlineMs,
    "the leader timeline to list the new leader",
  );
  assert.equal(await page.evaluate(() => (globalThis as { loadedOnce?: boolean }).loadedOnce), true, "the page was not reloaded");

  // A few more seconds of traffic through the new leader, so the chart shows the dip and the recovery.
  const before = Number(await page.getAttribute("body", "data-updates"));
  await waitFor(async () => Number(await page.getAttribute("body", "data-updates")) >= before + 4, pageDeadlineMs, "four more updates");
  const sent = await traffic.stop();
  t.diagnostic(`produced ${sent} records while the page watched`);
  assert.deepEqual(errors, [], "no script errors on the page");

  mkdirSync(outputDir, { recursive: true });
  const screenshot = join(outputDir, "dashboard.png");
  await page.screenshot({ path: screenshot, fullPage: true });
  t.diagnostic(`screenshot: ${screenshot}`);
  unblock();
  await member.close();
  await running;

  // Kill the node serving the page: it switches to the last node's feed and shows both dead nodes down.
  await cluster.kill(follower.id);
  const last = cluster.nodes.find((n) => n.id !== leaderId && n.id !== follower.id);
  assert.ok(last);
  await waitFor(async () => {
    const roles = await rolesOnPage(page);
    const servedBy = await page.getAttribute("body", "data-served-by");
    return servedBy === String(last.id) && roles[String(follower.id)] === "down" && roles[String(leaderId)] === "down";
  }, pageDeadlineMs, `the page to follow node ${last.id}'s feed with nodes ${leaderId} and ${follower.id} down`);
  assert.equal(await page.evaluate(() => (globalThis as { loadedOnce?: boolean }).loadedOnce), true, "still the same page");
  await page.screenshot({ path: join(outputDir, "dashboard-two-down.png"), fullPage: true });
});
