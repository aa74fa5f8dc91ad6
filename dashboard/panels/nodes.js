// Nodes: one card per member with its role, term, commit and applied index and lag. A member that does
// not answer is shown as down.
"use strict";
(function () {
  const R = window.Raftline;
  let list;
  R.register({
    id: "nodes",
    title: "Nodes",
    area: "full",
    mount(body) {
      list = R.el("div", { class: "node-cards" });
      body.append(list);
    },
    update(s) {
      const nodes = s.nodes || [];
      const maxCommit = Math.max(0, ...nodes.filter((n) => n.up).map((n) => n.commitIndex));
      list.replaceChildren(
        ...nodes.map((n) => {
          const lag = n.lag !== null ? n.lag : n.up ? Math.max(0, maxCommit - n.appliedIndex) : null;
          const stat = (label, value) => R.el("div", { class: "stat" }, R.el("span", { class: "k", text: label }), R.el("span", { class: "v", text: value }));
          return R.el(
            "div",
            { class: `node-card ${n.role}`, "data-node": String(n.id), "data-role": n.role, style: `--node:${R.nodeColor(n.id)}` },
            R.el("div", { class: "node-head" }, R.el("span", { class: "node-name", text: `node ${n.id}` }), R.el("span", { class: `badge ${n.role}`, text: n.role.replace("_", " ") })),
            R.el("div", { class: "node-addr", text: n.address }),
            R.el(
              "div",
              { class: "stats" },
              stat("term", n.up ? R.fmtInt(n.term) : "–"),
              stat("commit", n.up ? R.fmtInt(n.commitIndex) : "–"),
              stat("applied", n.up ? R.fmtInt(n.appliedIndex) : "–"),
              stat("lag", lag === null ? "–" : R.fmtInt(lag)),
            ),
          );
        }),
      );
    },
  });
})();
