// Consumer groups: per group its state, generation and total lag; its members with the partitions each
// owns; and per partition the owner, committed offset, high watermark and lag (with a bar scaled to the
// group's largest lag).
"use strict";
(function () {
  const R = window.Raftline;
  const memberPalette = ["#4f8cff", "#2bb673", "#f29f3f", "#b36bff", "#ff6b8b", "#1fb5c9", "#c9b21f", "#7c8aa5"];
  let list;
  let empty;
  let note;
  /** "raftline-cli-391d7df4-…" → "391d7df4": the member id without its client id prefix, cut short. */
  function shortId(m) {
    const rest = m.memberId.startsWith(`${m.clientId}-`) ? m.memberId.slice(m.clientId.length + 1) : m.memberId;
    return rest.slice(0, 8);
  }
  function partitionChips(tps, cls) {
    return tps.flatMap((t) => t.partitions.map((p) => R.el("span", { class: `tp ${cls}`, text: `${t.topic}·${p}` })));
  }
  function memberRow(m, color, lag) {
    const owns = partitionChips(m.assigned, "owned");
    const revoking = partitionChips(m.revoking, "revoking");
    return R.el(
      "li",
      { class: "member", "data-member": m.memberId, title: m.memberId },
      R.el("span", { class: "swatch", style: `background:${color}` }),
      R.el(
        "div",
        { class: "who" },
        R.el("span", { class: "client", text: m.instanceId || m.clientId }),
        R.el("span", { class: "mid", text: shortId(m) }),
      ),
      R.el("div", { class: "tps" }, ...(owns.length || revoking.length ? [...owns, ...revoking] : [R.el("span", { class: "none", text: "no partitions" })])),
      R.el("span", { class: `member-lag ${lag > 0 ? "behind" : ""}`, text: `lag ${R.fmtInt(lag)}` }),
    );
  }
  function lagOf(g, memberId) {
    return g.partitions.filter((p) => p.owner === memberId).reduce((n, p) => n + p.lag, 0);
  }
  function groupCard(g) {
    const colors = new Map(g.members.map((m, i) => [m.memberId, memberPalette[i % memberPalette.length]]));
    const maxLag = Math.max(1, ...g.partitions.map((p) => p.lag));
    const head = R.el(
      "div",
      { class: "group-head" },
      R.el("span", { class: "group-name", text: g.groupId }),
      R.el("span", { class: `badge g-${g.state}`, text: g.state }),
      R.el("span", { class: "group-meta", text: `generation ${g.generation} · ${g.assignor || "–"} · ${g.members.length} member${g.members.length === 1 ? "" : "s"}` }),
      R.el("span", { class: `group-lag ${g.totalLag > 0 ? "behind" : ""}` }, R.el("span", { class: "k", text: "lag" }), R.el("b", { text: R.fmtInt(g.totalLag) })),
    );
    const members = g.members.length
      ? R.el("ul", { class: "members" }, ...g.members.map((m) => memberRow(m, colors.get(m.memberId), lagOf(g, m.memberId))))
      : R.el("div", { class: "empty", text: "No members: offsets kept, partitions unowned." });
    const rows = g.partitions.map((p) => {
      const owner = g.members.find((m) => m.memberId === p.owner);
      return R.el(
        "tr",
        { "data-group": g.groupId, "data-topic": p.topic, "data-partition": String(p.partition) },
        R.el("td", { class: "tp-name", text: `${p.topic}·${p.partition}` }),
        R.el(
          "td",
          { class: "owner" },
          owner ? R.el("span", { class: "swatch", style: `background:${colors.get(owner.memberId)}` }) : "",
          owner ? shortId(owner) : R.el("span", { class: "none", text: "–" }),
        ),
        R.el("td", { class: "num", text: p.committed === null ? "–" : R.fmtInt(p.committed) }),
        R.el("td", { class: "num", text: R.fmtInt(p.highWatermark) }),
        R.el("td", { class: `num lag ${p.lag > 0 ? "behind" : ""}`, text: R.fmtInt(p.lag) }),
        R.el("td", { class: "lag-bar" }, R.el("span", { style: `width:${Math.round((100 * p.lag) / maxLag)}%` })),
      );
    });
    const table = R.el(
      "table",
      { class: "group-partitions" },
      R.el("thead", {}, R.el("tr", {}, ...["partition", "owner", "committed", "high watermark", "lag", ""].map((h) => R.el("th", { text: h })))),
      R.el("tbody", {}, ...rows),
    );
    return R.el("div", { class: `group-card g-${g.state}`, "data-group": g.groupId, "data-state": g.state }, head, R.el("div", { class: "group-body" }, members, table));
  }
  R.register({
    id: "groups",
    title: "Consumer groups",
    area: "full",
    mount(body) {
      list = R.el("div", { class: "group-cards" });
      empty = R.el("div", { class: "empty", text: "No consumer groups yet. Join one with: raftline consume TOPIC --group NAME" });
      note = R.el("div", { class: "note" });
      body.append(list, empty, note);
    },
    update(s) {
      const section = s.groups || { groups: [] };
      empty.style.display = section.groups.length ? "none" : "";
      list.replaceChildren(...section.groups.map(groupCard));
      const left = [
        section.omittedGroups ? `${section.omittedGroups} more groups not shown` : "",
        section.omittedPartitions ? `${section.omittedPartitions} more partitions not shown` : "",
      ].filter(Boolean);
      note.textContent = left.join(" · ");
    },
  });
})();
