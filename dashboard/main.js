// Mounts the registered panels and feeds them from /api/events (server-sent events). The node answers
// with one snapshot per second; the page keeps a short history for rates and the chart. EventSource
// reconnects by itself when the stream breaks.
"use strict";
(function () {
  const R = window.Raftline;
  const historyMax = 300;
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

  function summarize(s) {
    const nodes = s.nodes || [];
    const up = nodes.filter((n) => n.up).length;
    const leader = nodes.find((n) => n.id === s.leaderId);
    const parts = [
      s.leaderId ? `leader <b>node ${s.leaderId}</b>` : `<b class="warn">no leader</b>`,
      leader ? `term ${leader.term}` : "",
      `<span class="${up === nodes.length ? "" : "warn"}">${up}/${nodes.length} nodes up</span>`,
      `${(s.topics && s.topics.topics.length) || 0} topics`,
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

  const source = new EventSource("/api/events");
  source.onopen = () => setFeed("live", "live");
  source.onerror = () => setFeed("down", "reconnecting…");
  source.onmessage = (event) => {
    const snapshot = JSON.parse(event.data);
    history.push({ atMs: snapshot.atMs, snapshot, ...totals(snapshot) });
    if (history.length > historyMax) history.shift();
    setFeed("live", "live");
    summarize(snapshot);
    for (const panel of R.panels) panel.update(snapshot, history);
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
  };
})();
