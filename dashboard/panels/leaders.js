// Leader changes: a band over the last minutes coloured by the leader of the moment, and the latest
// changes as a list (as the serving node saw them).
"use strict";
(function () {
  const R = window.Raftline;
  const windowMaxMs = 5 * 60 * 1000;
  const windowMinMs = 60 * 1000;
  let band;
  let list;
  let scaleStart;
  R.register({
    id: "leaders",
    title: "Leader timeline",
    area: "narrow",
    mount(body) {
      band = R.el("div", { class: "leader-band" });
      list = R.el("ol", { class: "leader-list" });
      scaleStart = R.el("span");
      body.append(band, R.el("div", { class: "band-scale" }, scaleStart, R.el("span", { text: "now" })), list);
    },
    update(s) {
      const changes = s.leaderChanges || [];
      const end = s.atMs;
      // The band spans what the node has seen, between one and five minutes.
      const seen = changes.length ? end - changes[0].atMs : 0;
      const windowMs = Math.min(windowMaxMs, Math.max(windowMinMs, seen));
      const start = end - windowMs;
      scaleStart.textContent = windowMs >= 120000 ? `−${Math.round(windowMs / 60000)} min` : `−${Math.round(windowMs / 1000)} s`;
      const segments = [];
      for (let i = 0; i < changes.length; i++) {
        const from = Math.max(start, changes[i].atMs);
        const to = i + 1 < changes.length ? changes[i + 1].atMs : end;
        if (to <= start) continue;
        segments.push({ from, to, leaderId: changes[i].leaderId, term: changes[i].term });
      }
      band.replaceChildren(
        ...segments.map((g) =>
          R.el("div", {
            class: "seg",
            title: g.leaderId ? `node ${g.leaderId} (term ${g.term})` : "no leader",
            style: `left:${((g.from - start) / windowMs) * 100}%;width:${Math.max(0.4, ((g.to - g.from) / windowMs) * 100)}%;background:${R.nodeColor(g.leaderId)}`,
          }),
        ),
      );
      list.replaceChildren(
        ...changes
          .slice(-6)
          .reverse()
          .map((c) =>
            R.el(
              "li",
              { "data-leader": String(c.leaderId) },
              R.el("span", { class: "swatch", style: `background:${R.nodeColor(c.leaderId)}` }),
              R.el("span", { class: "when", text: R.fmtTime(c.atMs) }),
              R.el("span", { text: c.leaderId ? `node ${c.leaderId} leads` : "no leader" }),
              R.el("span", { class: "term", text: c.leaderId ? `term ${c.term}` : "" }),
            ),
          ),
      );
    },
  });
})();
