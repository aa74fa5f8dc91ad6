// Topics and partitions: offsets, stored size and the current append rate of each partition.
"use strict";
(function () {
  const R = window.Raftline;
  let table;
  let empty;
  function rateOf(history, topic, partition) {
    if (history.length < 2) return 0;
    const find = (s) => {
      const t = ((s.topics && s.topics.topics) || []).find((x) => x.name === topic);
      return t && t.partitions.find((p) => p.partition === partition);
    };
    const a = find(history[history.length - 2].snapshot);
    const b = find(history[history.length - 1].snapshot);
    const dt = (history[history.length - 1].atMs - history[history.length - 2].atMs) / 1000;
    return a && b && dt > 0 ? Math.max(0, (b.highWatermark - a.highWatermark) / dt) : 0;
  }
  R.register({
    id: "topics",
    title: "Topics and partitions",
    area: "full",
    mount(body) {
      table = R.el("table", { class: "topics" });
      empty = R.el("div", { class: "empty", text: "No topics yet. Create one with: raftline topic create NAME" });
      body.append(table, empty);
    },
    update(s, history) {
      const topics = (s.topics && s.topics.topics) || [];
      empty.style.display = topics.length ? "none" : "";
      table.style.display = topics.length ? "" : "none";
      const head = R.el("tr", {}, ...["topic", "partition", "start offset", "high watermark", "records", "size", "records/s"].map((h) => R.el("th", { text: h })));
      const rows = [];
      for (const t of topics) {
        t.partitions.forEach((p, i) => {
          const rate = rateOf(history, t.name, p.partition);
          rows.push(
            R.el(
              "tr",
              { "data-topic": t.name, "data-partition": String(p.partition), class: i === 0 ? "first" : "" },
              R.el("td", { class: "topic-name", text: i === 0 ? t.name : "" }),
              R.el("td", { text: String(p.partition) }),
              R.el("td", { class: "num", text: R.fmtInt(p.startOffset) }),
              R.el("td", { class: "num hw", text: R.fmtInt(p.highWatermark) }),
              R.el("td", { class: "num", text: R.fmtInt(p.highWatermark - p.startOffset) }),
              R.el("td", { class: "num", text: R.fmtBytes(p.bytes) }),
              R.el("td", { class: `num ${rate > 0 ? "active" : ""}`, text: R.fmtRate(rate) }),
            ),
          );
        });
      }
      table.replaceChildren(R.el("thead", {}, head), R.el("tbody", {}, ...rows));
      if (s.topics && s.topics.omittedPartitions) {
        table.append(R.el("caption", { text: `${s.topics.omittedPartitions} more partitions not shown` }));
      }
    },
  });
})();
