// tablegraph's page: ask a question, show the ranked tables, why they match, and the set
// of tables the question needs with its joins. No framework, nothing from a CDN.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, text) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const svgEl = (tag, attrs) => {
    const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  };

  function headers() {
    const h = { "Content-Type": "application/json" };
    const token = sessionStorage.getItem("tablegraph-token");
    if (token) h["Authorization"] = "Bearer " + token;
    return h;
  }

  async function post(path, body) {
    const r = await fetch(path, { method: "POST", headers: headers(), body: JSON.stringify(body) });
    const data = await r.json().catch(() => ({ error: "unreadable answer" }));
    if (r.status === 401) { $("token-row").hidden = false; }
    if (!r.ok) throw new Error(data.error || ("HTTP " + r.status));
    return data;
  }

  function renderHits(result) {
    const box = $("results");
    box.replaceChildren();
    const inSet = new Set(result.set ? result.set.tables : []);
    const top = Math.max(...result.hits.map((h) => h.score), 1e-9);
    const low = Math.min(...result.hits.map((h) => h.score), 0);
    for (const h of result.hits) {
      const row = el("div", { class: "hit", "data-table": h.table });
      const head = el("div", { class: "head" });
      head.append(el("span", { class: "rank" }, h.rank + "."), el("span", { class: "name" }, h.table));
      const barbox = el("div", { class: "barbox" });
      const width = Math.max(2, Math.round(100 * (h.score - low) / ((top - low) || 1)));
      barbox.append(el("div", { class: "bar", style: "width:" + width + "%" }));
      head.append(barbox, el("span", { class: "score" }, h.score.toFixed(3)));
      if (inSet.has(h.table)) head.append(el("span", { class: "in-set" }, "in set"));
      row.append(head);
      const cols = h.columns.map((c) => c.column).join(", ");
      // a long value (a post's body) is cut to 40 characters, as the text output does
      const shown = (v) => (v.length > 40 ? v.slice(0, 40) + "..." : v);
      const vals = h.values.map((v) => v.column + " = " + JSON.stringify(shown(v.value))).join(", ");
      row.append(el("div", { class: "why" }, "columns: " + cols + (vals ? "  ·  values: " + vals : "")));
      box.append(row);
    }
  }

  function renderSet(result) {
    const section = $("set");
    const s = result.set;
    if (!s || !s.tables.length) {
      section.hidden = true;
      if (result.answerable === false) {
        // and the set it withheld, for the reader to judge
        const w = result.withheld && result.withheld.tables.length
          ? " If one does: " + result.withheld.tables.join(", ") + "." : "";
        $("status").textContent = (result.read_as ? "Read as: " + result.read_as + ". " : "") +
          "Nothing in this database seems to answer that (confidence " +
          result.confidence.toFixed(2) + ")." + w;
      }
      return;
    }
    section.hidden = false;
    const svg = $("graph");
    svg.replaceChildren();
    const W = 640, H = 300, n = s.tables.length;
    const pos = {};
    s.tables.forEach((t, i) => {
      const a = n === 1 ? 0 : (2 * Math.PI * i) / n - Math.PI / 2;
      pos[t] = n === 1 ? [W / 2, H / 2] : [W / 2 + 220 * Math.cos(a), H / 2 - 10 + 100 * Math.sin(a)];
    });
    const tableOf = (side) => side.split(".")[0];
    for (const j of s.joins) {
      const a = pos[tableOf(j.left)], b = pos[tableOf(j.right)];
      if (!a || !b) continue;
      svg.append(svgEl("line", { x1: a[0], y1: a[1], x2: b[0], y2: b[1], class: j.source }));
    }
    const seeds = new Set(result.hits.map((h) => h.table));
    for (const t of s.tables) {
      const [x, y] = pos[t];
      svg.append(svgEl("circle", { cx: x, cy: y, r: 30, class: seeds.has(t) ? "seed" : "bridge" }));
      const label = svgEl("text", { x: x, y: y + 46 });
      label.textContent = t;
      svg.append(label);
    }
    const ul = $("joins");
    ul.replaceChildren();
    for (const j of s.joins) {
      ul.append(el("li", {}, j.left + " = " + j.right + "  (" + j.source + ", " + j.confidence.toFixed(2) + ")"));
    }
  }

  $("ask").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const token = $("token").value.trim();
    if (token) sessionStorage.setItem("tablegraph-token", token);
    const question = $("question").value.trim();
    if (!question) return;
    $("status").textContent = "Searching…";
    const t0 = performance.now();
    try {
      const result = await post("/search", { question: question, k: Number($("k").value) });
      // mistyped words respelt: say how the question was read (the abstention may say more)
      $("status").textContent = result.read_as ? "Read as: " + result.read_as : "";
      renderHits(result);
      renderSet(result);
      $("foot").textContent = "answered in " + Math.round(performance.now() - t0) + " ms";
    } catch (e) {
      $("status").textContent = "Error: " + e.message;
    }
  });

  fetch("/health").then((r) => r.json()).then((h) => {
    $("foot").textContent = h.tables + " tables indexed";
  }).catch(() => {});
})();
