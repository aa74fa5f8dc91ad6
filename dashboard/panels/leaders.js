// Leader changes: a band over the last minutes coloured by the leader of the moment, and the latest
// changes as a list (as the serving node saw them).
"use strict";
(function () {
  const R = window.Raftline;
  const windowMs = 5 * 60 * 1000;
  let band;
  let list;
  R.register({
    id: "leaders",
    title: "Leader timeline",
    area: "narrow",
    mount(body) {
      band = R.el("div", { class: "leader-band" });
      list = R.el("ol", { class: "leader-list" });
      body.append(band, R.el("div", { class: "band-scale" }, R.el("span", { text: "−5 min" }), R.el("span", { text: "now" })), list);
    },
    update(s) {
      const changes = s.leaderChanges || [];
      const end = s.atMs;
      const start = end - windowMs;
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
