// Work queues (share groups): per queue its topic, delivery limit, dead-letter topic, accepted and
// dead-lettered totals and depth (records not yet settled); per partition the start offset, the records
// locked by consumers, those waiting to be delivered again, those about to be dead-lettered, and the
// depth (with a bar scaled to the queue's deepest partition).
"use strict";
(function () {
  const R = window.Raftline;
  let list;
  let empty;
  let note;
  function queueCard(q) {
    const deepest = Math.max(1, ...q.partitions.map((p) => p.unsettled));
    const head = R.el(
      "div",
      { class: "group-head" },
      R.el("span", { class: "group-name", text: q.groupId }),
      q.topicDeleted ? R.el("span", { class: "badge g-empty", text: "topic deleted" }) : "",
      R.el("span", {
        class: "group-meta",
        text: `${q.topic} · limit ${q.deliveryLimit} · lock ${R.fmtInt(q.lockTimeoutMs)} ms · accepted ${R.fmtInt(q.acceptedTotal)} · dead-lettered ${R.fmtInt(q.deadLetteredTotal)} → ${q.deadLetterTopic}`,
      }),
      R.el("span", { class: `group-lag ${q.unsettled > 0 ? "behind" : ""}` }, R.el("span", { class: "k", text: "depth" }), R.el("b", { text: R.fmtInt(q.unsettled) })),
    );
    const rows = q.partitions.map((p) =>
      R.el(
        "tr",
        { "data-queue": q.groupId, "data-partition": String(p.partition) },
        R.el("td", { class: "tp-name", text: `${q.topic}·${p.partition}` }),
        R.el("td", { class: "num", text: R.fmtInt(p.startOffset) }),
        R.el("td", { class: "num acquired", text: R.fmtInt(p.acquired) }),
        R.el("td", { class: "num available", text: R.fmtInt(p.available) }),
        R.el("td", { class: `num dlq ${p.deadLetterPending > 0 ? "behind" : ""}`, text: R.fmtInt(p.deadLetterPending) }),
        R.el("td", { class: `num lag depth ${p.unsettled > 0 ? "behind" : ""}`, text: R.fmtInt(p.unsettled) }),
        R.el("td", { class: "lag-bar" }, R.el("span", { style: `width:${Math.round((100 * p.unsettled) / deepest)}%` })),
      ),
    );
    const table = R.el(
      "table",
      { class: "group-partitions queue-partitions" },
      R.el("thead", {}, R.el("tr", {}, ...["partition", "start", "locked", "to redeliver", "to dead-letter", "depth", ""].map((h) => R.el("th", { text: h })))),
      R.el("tbody", {}, ...rows),
    );
    return R.el("div", { class: `group-card ${q.topicDeleted ? "g-empty" : ""}`, "data-queue": q.groupId }, head, table);
  }
  R.register({
    id: "queues",
    title: "Work queues",
    area: "full",
    mount(body) {
      list = R.el("div", { class: "group-cards" });
      empty = R.el("div", { class: "empty", text: "No work queues yet. Create one with: raftline queue create NAME -t TOPIC" });
      note = R.el("div", { class: "note" });
      body.append(list, empty, note);
    },
    update(s) {
      const section = s.queues || { queues: [] };
      empty.style.display = section.queues.length ? "none" : "";
      list.replaceChildren(...section.queues.map(queueCard));
      const left = [
        section.omittedQueues ? `${section.omittedQueues} more queues not shown` : "",
        section.omittedPartitions ? `${section.omittedPartitions} more partitions not shown` : "",
      ].filter(Boolean);
      note.textContent = left.join(" · ");
    },
  });
})();
