// Mounts the registered panels and feeds them from a node's /api/events (server-sent events, one
// snapshot per second). The page keeps a short history for rates and the chart. When the node it
// listens to goes quiet, it switches to another node's feed (their HTTP addresses come in the snapshots),
// so the page keeps working while any node is up.
"use strict";
(function () {
  const R = window.Raftline;
  const historyMax = 300;
  /** Silence after which the page tries another node's feed. */
  const quietMs = 3000;
  const history = [];
  const grid = document.getElementById("panels");
  for (const panel of R.panels) {
    const body = R.el("div", { class: "panel-body" });
    const card = R.el("section", { class: `panel ${panel.area || "half"}`, id: `panel-${panel.id}` }, R.el("h2", { text: panel.title }), body);
    grid.append(card);
    panel.mount(body);
  }

  const feedState = document.getElementById("feed-state");
  function setFeed(state, label) {
    feedState.className = `feed-state ${state}`;
    feedState.querySelector(".label").textContent = label;
  }

  function groupCount(s) {
    const n = (s.groups && s.groups.groups.length) || 0;
    return `${n} group${n === 1 ? "" : "s"}`;
  }

  function summarize(s) {
    const nodes = s.nodes || [];
    const up = nodes.filter((n) => n.up).length;
    const leader = nodes.find((n) => n.id === s.leaderId);
    const parts = [
      s.leaderId ? `leader <b>node ${s.leaderId}</b>` : `<b class="warn">no leader</b>`,
      leader ? `term ${leader.term}` : "",
      `<span class="${up === nodes.length ? "" : "warn"}">${up}/${nodes.length} nodes up</span>`,
      `${(s.topics && s.topics.topics.length) || 0} topics`,
      groupCount(s),
    ].filter(Boolean);
    document.getElementById("summary").innerHTML = parts.join(" · ");
    document.getElementById("foot").textContent = `served by node ${s.servedBy} · updated ${R.fmtTime(s.atMs)}`;
  }

  function totals(s) {
    let records = 0;
    let bytes = 0;
    for (const t of (s.topics && s.topics.topics) || []) {
      for (const p of t.partitions) {
        records += p.highWatermark;
        bytes += p.bytes;
      }
    }
    return { records, bytes };
  }

  function receive(snapshot) {
    history.push({ atMs: snapshot.atMs, snapshot, ...totals(snapshot) });
    if (history.length > historyMax) history.shift();
    summarize(snapshot);
    for (const panel of R.panels) panel.update(snapshot, history);
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
    document.body.dataset.servedBy = String(snapshot.servedBy);
  }

  // Feeds to try, by node id: learned from the snapshots. A node bound to a wildcard address is reached
  // under the host this page came from.
  const feeds = new Map();
  function learn(snapshot) {
    for (const n of snapshot.nodes || []) {
      if (!n.httpAddress) continue;
      const [host, port] = [n.httpAddress.slice(0, n.httpAddress.lastIndexOf(":")), n.httpAddress.slice(n.httpAddress.lastIndexOf(":") + 1)];
      const reachable = host === "0.0.0.0" || host === "[::]" || host === "::" ? location.hostname : host;
      feeds.set(n.id, `http://${reachable}:${port}/api/events`);
    }
  }

  let source;
  let url = "/api/events";
  let lastMessageMs = Date.now();
  let servedBy;
  function connect(next) {
    if (source) source.close();
    url = next;
    lastMessageMs = Date.now();
    source = new EventSource(url);
    source.onopen = () => setFeed("live", servedBy ? `live · node ${servedBy}` : "live");
    source.onerror = () => setFeed("down", "reconnecting…");
    source.onmessage = (event) => {
      const snapshot = JSON.parse(event.data);
      lastMessageMs = Date.now();
      servedBy = snapshot.servedBy;
      setFeed("live", `live · node ${servedBy}`);
      learn(snapshot);
      receive(snapshot);
    };
  }
  setInterval(() => {
    if (Date.now() - lastMessageMs < quietMs) return;
    const candidates = [...feeds.entries()].filter(([id]) => id !== servedBy).map(([, u]) => u);
    if (candidates.length === 0) return;
    const at = candidates.indexOf(url);
    setFeed("down", "switching node…");
    connect(candidates[(at + 1) % candidates.length]);
  }, 1000);
  connect(url);
})();
