// Throughput: records and bytes per second over all partitions, from the change in high watermarks and
// stored bytes between updates, drawn with uPlot.
"use strict";
(function () {
  const R = window.Raftline;
  const gapSeconds = 2.5;
  let plot;
  let holder;
  let now;
  function size() {
    return { width: Math.max(300, holder.clientWidth), height: 220 };
  }
  R.register({
    id: "throughput",
    title: "Throughput",
    area: "wide",
    mount(body) {
      now = R.el("div", { class: "rate-now" });
      holder = R.el("div", { class: "chart" });
      body.append(now, holder);
      plot = new uPlot(
        {
          ...size(),
          cursor: { drag: { x: false, y: false } },
          legend: { show: true, live: false },
          scales: { x: { time: true }, rec: { auto: true, range: (u, min, max) => [0, Math.max(10, max * 1.15)] }, bytes: { auto: true, range: (u, min, max) => [0, Math.max(1024, max * 1.15)] } },
          axes: [
            { stroke: "#8b95a7", grid: { stroke: "#232a36" }, ticks: { stroke: "#232a36" }, values: (u, v) => v.map((x) => R.fmtTime(x * 1000)), space: 90 },
            { scale: "rec", stroke: "#8b95a7", grid: { stroke: "#232a36" }, ticks: { stroke: "#232a36" }, values: (u, v) => v.map((x) => R.fmtRate(x)), size: 60 },
            { scale: "bytes", side: 1, stroke: "#8b95a7", grid: { show: false }, values: (u, v) => v.map((x) => R.fmtBytes(x) + "/s"), size: 80 },
          ],
          series: [
            {},
            { label: "records/s", scale: "rec", stroke: "#4f8cff", width: 2, fill: "rgba(79,140,255,0.15)", value: (u, v) => (v === null ? "–" : R.fmtRate(v)) },
            { label: "bytes/s", scale: "bytes", stroke: "#2bb673", width: 2, dash: [6, 4], value: (u, v) => (v === null ? "–" : R.fmtBytes(v) + "/s") },
          ],
        },
        [[], [], []],
        holder,
      );
      new ResizeObserver(() => plot.setSize(size())).observe(holder);
    },
    update(s, history) {
      const xs = [];
      const recs = [];
      const bytes = [];
      for (let i = 1; i < history.length; i++) {
        const a = history[i - 1];
        const b = history[i];
        const dt = (b.atMs - a.atMs) / 1000;
        if (dt <= 0) continue;
        // Updates missed (the page was switching nodes): a gap, not a line drawn across it.
        if (dt > gapSeconds) {
          xs.push(a.atMs / 1000 + gapSeconds / 2);
          recs.push(null);
          bytes.push(null);
        }
        xs.push(b.atMs / 1000);
        recs.push(Math.max(0, (b.records - a.records) / dt));
        bytes.push(Math.max(0, (b.bytes - a.bytes) / dt));
      }
      plot.setData([xs, recs, bytes]);
      // The peak on the chart, for anyone checking the page (the browser test does).
      holder.dataset.peakRecordsPerSecond = String(Math.max(0, ...recs.filter((r) => r !== null)));
      const last = recs.length ? recs[recs.length - 1] || 0 : 0;
      const lastBytes = bytes.length ? bytes[bytes.length - 1] || 0 : 0;
      const total = history.length ? history[history.length - 1].records : 0;
      now.innerHTML = `<b>${R.fmtRate(last)}</b> records/s · <b>${R.fmtBytes(lastBytes)}/s</b> · <b>${R.fmtInt(total)}</b> records appended`;
    },
  });
})();
