// The dashboard's panel registry and small helpers. Each file under panels/ registers one panel:
//   Raftline.register({ id, title, area, mount(body), update(snapshot, history) })
// `area` places it in the grid (wide | half | full). main.js mounts them in registration order and feeds
// them every update from the node's event stream.
"use strict";
window.Raftline = {
  panels: [],
  register(panel) {
    this.panels.push(panel);
  },
  el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c);
    return node;
  },
  fmtInt(n) {
    return n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US");
  },
  fmtBytes(n) {
    if (n === null || n === undefined) return "–";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    return `${i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
  },
  fmtRate(n) {
    if (!n) return "0";
    return n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(1);
  },
  fmtTime(ms) {
    return new Date(ms).toLocaleTimeString("en-GB", { hour12: false });
  },
  /** A stable colour per node id, shared by the node cards and the leader timeline. */
  nodeColor(id) {
    const palette = ["#7c8aa5", "#4f8cff", "#2bb673", "#f29f3f", "#b36bff", "#ff6b8b", "#1fb5c9", "#c9b21f"];
    return id ? palette[id % palette.length] : "#3a4250";
  },
};
