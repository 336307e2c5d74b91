// hardneg review: the page. Plain JavaScript, no build step, nothing fetched from outside this server.
// Decisions go through a queue kept in localStorage: each is retried with its request id until the server
// acknowledges it (the server answers only after the commit), so a lost connection or a reload loses nothing.
"use strict";

const CONFIG = JSON.parse(document.getElementById("config").textContent);
const TOKEN = document.querySelector('meta[name="hardneg-token"]').content;
const PAGE = 200;
const params = new URLSearchParams(location.search);
const REVIEWER = params.get("reviewer") || CONFIG.reviewer;
const QUEUE_KEY = "hardneg-review-queue:" + CONFIG.mined_dir + ":" + REVIEWER;

const state = {
  ids: [],          // every candidate the filters keep, in order
  cache: new Map(), // id -> candidate description
  cursor: 0,        // position in ids of the selected candidate
  offset: 0,        // first position shown in the grid
  view: "grid",
  query: {},
  sending: false,
};

const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
};
const fmtMs = (ms) => (ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 2) + " s";

// ------------------------------------------------------------------ keys

const KEYS = [];
CONFIG.categories.slice(0, 9).forEach((name, i) =>
  KEYS.push({ key: String(i + 1), label: `negative: ${name}`, state: "negative", category: name }));
KEYS.push({ key: "n", label: "confirmed negative", state: "negative" });
KEYS.push({ key: "p", label: "true positive (a label error)", state: "positive" });
KEYS.push({ key: "u", label: "unsure", state: "unsure" });
KEYS.push({ key: "s", label: "skip", state: "skip" });
const MOVES = [
  ["z", "undo your last decision"], ["j", "next candidate"], ["k", "previous candidate"],
  ["space", "play or pause the audio"], ["g", "grid or one at a time"], ["?", "this help"], ["Esc", "close"],
];

function fillHelp() {
  const table = $("help-keys");
  for (const k of KEYS) table.append(el("tr", {}, el("td", {}, el("kbd", { text: k.key })), el("td", { text: k.label })));
  for (const [key, label] of MOVES) table.append(el("tr", {}, el("td", {}, el("kbd", { text: key })), el("td", { text: label })));
}

// ------------------------------------------------------------------ server

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { "Content-Type": "application/json", "X-Hardneg-Token": TOKEN, ...(options.headers || {}) },
  });
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (!response.ok) {
    const error = new Error((body && body.detail) || response.statusText);
    error.status = response.status;
    throw error;
  }
  return body;
}

function query(extra = {}) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries({ ...state.query, ...extra })) {
    if (value !== "" && value != null) q.set(key, value);
  }
  return q.toString();
}

// ------------------------------------------------------------------ the queue of writes

function loadQueue() { try { return JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]"); } catch (e) { return []; } }
function saveQueue(queue) { localStorage.setItem(QUEUE_KEY, JSON.stringify(queue)); }
function newId() {
  return (crypto.randomUUID ? crypto.randomUUID() : Date.now() + "-" + Math.random().toString(16).slice(2));
}

function enqueue(path, body) {
  const queue = loadQueue();
  queue.push({ path, body: { ...body, reviewer: REVIEWER, request_id: newId() } });
  saveQueue(queue);
  pump();
}

function showSave() {
  const pending = loadQueue().length;
  const box = $("save-state");
  if (pending === 0) { box.textContent = "all saved"; box.className = "save ok"; }
  else if (!box.classList.contains("fail")) { box.textContent = `saving ${pending}…`; box.className = "save busy"; }
}

async function pump() {
  showSave();
  if (state.sending) return;
  state.sending = true;
  let delay = 250;
  try {
    for (;;) {
      const queue = loadQueue();
      if (!queue.length) break;
      const next = queue[0];
      try {
        const answer = await api(next.path, { method: "POST", body: JSON.stringify(next.body) });
        const rest = loadQueue();
        if (rest.length && rest[0].body.request_id === next.body.request_id) rest.shift();
        saveQueue(rest);
        delay = 250;
        applyAnswer(next, answer);
        showSave();
      } catch (error) {
        if (error.status && error.status < 500 && error.status !== 408 && error.status !== 429) {
          // refused for good (a stale token, a removed category): drop it and say so instead of retrying forever
          const rest = loadQueue();
          rest.shift();
          saveQueue(rest);
          message(`not saved: ${error.message}`);
          if (error.status === 403) { $("save-state").textContent = "reload the page"; $("save-state").className = "save fail"; }
          continue;
        }
        const box = $("save-state");
        box.textContent = `offline, retrying (${loadQueue().length} waiting)`;
        box.className = "save fail";
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 5000);
        box.className = "save busy";
      }
    }
  } finally {
    state.sending = false;
    showSave();
  }
}

function applyAnswer(request, answer) {
  if (answer.progress) setProgress(answer.progress.reviewed, answer.progress.total);
  if (request.path === "/api/undo") {
    for (const c of answer.candidates || []) state.cache.set(c.id, c);
    if (answer.undone && answer.undone.length === 0) message("nothing of yours to undo");
    render();
    refreshStats();
  } else if (request.path === "/api/bulk") {
    message(`${answer.count} candidates marked ${answer.state}${answer.category ? " / " + answer.category : ""}`);
    reload();
  } else if (answer.seq % 10 === 0) {
    refreshStats();
  }
}

// ------------------------------------------------------------------ loading

async function reload(keepCursor = false) {
  const answer = await api("/api/candidates?" + query({ offset: 0, limit: PAGE }));
  state.ids = answer.ids;
  for (const c of answer.candidates) state.cache.set(c.id, c);
  if (!keepCursor) { state.cursor = 0; state.offset = 0; }
  state.cursor = Math.min(state.cursor, Math.max(0, state.ids.length - 1));
  $("match-count").textContent = `${answer.total} candidates shown of ${CONFIG.total}`;
  await ensureLoaded(state.offset, PAGE);
  render();
  refreshStats();
}

async function ensureLoaded(from, count) {
  const wanted = state.ids.slice(from, from + count).filter((id) => !state.cache.has(id));
  if (!wanted.length) return;
  const answer = await api("/api/candidates?" + query({ offset: from, limit: count }));
  for (const c of answer.candidates) state.cache.set(c.id, c);
}

function selected() { return state.cache.get(state.ids[state.cursor]); }

// ------------------------------------------------------------------ deciding

function decide(choice) {
  const candidate = selected();
  if (!candidate) return;
  candidate.state = choice.state;
  candidate.category = choice.category || null;
  candidate.reviewer = REVIEWER;
  enqueue("/api/decisions", { candidate: candidate.id, state: choice.state, category: choice.category || null });
  move(1);
}

function undo() { enqueue("/api/undo", {}); }

async function move(step) {
  if (!state.ids.length) return;
  state.cursor = Math.max(0, Math.min(state.ids.length - 1, state.cursor + step));
  if (state.cursor < state.offset || state.cursor >= state.offset + PAGE) {
    state.offset = Math.floor(state.cursor / PAGE) * PAGE;
  }
  await ensureLoaded(Math.max(0, state.cursor - 5), 30);
  render();
}

async function bulkAssign() {
  const stateName = $("bulk-state").value;
  const category = $("bulk-category").value || null;
  const answer = await api("/api/candidates?" + query({ limit: 0 }));
  const filters = Object.fromEntries(new URLSearchParams(query()));
  $("confirm-text").textContent =
    `Mark all ${answer.total} candidates shown as ${stateName}${category ? " / " + category : ""}? ` +
    "You can take it back with z.";
  $("confirm").hidden = false;
  $("confirm-yes").focus();
  $("confirm-yes").onclick = () => {
    $("confirm").hidden = true;
    enqueue("/api/bulk", { filters, state: stateName, category, expected: answer.total });
  };
}

// ------------------------------------------------------------------ drawing

function badge(c) {
  const text = c.state ? (c.category ? `${c.state} · ${c.category}` : c.state) : "unreviewed";
  return el("span", { class: "badge " + (c.state || "none"), text });
}

function thumbnail(c) {
  const m = c.media;
  const src = m.image || m.spectrogram || m.snapshot;
  if (src) return el("img", { src, loading: "lazy", alt: `${c.item} ${fmtMs(c.start_ms)}` });
  const canvas = el("canvas", { width: 380, height: 220, "data-signal": m.signal });
  lazySignal(canvas, c, true);
  return canvas;
}

const signalObserver = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    if (!entry.isIntersecting) continue;
    signalObserver.unobserve(entry.target);
    const { candidate, small } = entry.target._pending;
    drawSignalInto(entry.target, candidate, small);
  }
});
function lazySignal(canvas, candidate, small) { canvas._pending = { candidate, small }; signalObserver.observe(canvas); }

async function drawSignalInto(canvas, candidate, small) {
  try {
    const response = await fetch(candidate.media.signal);
    if (!response.ok) throw new Error(response.statusText);
    plotSignal(canvas, await response.json(), small);
  } catch (error) {
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#999"; ctx.fillText("no signal: " + error.message, 10, 20);
  }
}

const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];

function plotSignal(canvas, data, small) {
  // one panel per channel group, the window shaded, the context around it
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  const groups = data.groups.length ? data.groups : [{ name: "", channels: data.channels }];
  const left = small ? 4 : 60, right = 8, gap = small ? 4 : 14, bottom = small ? 4 : 22;
  const panelH = (h - bottom - gap * (groups.length - 1)) / groups.length;
  const t = data.t_ms, t0 = data.context[0], t1 = data.context[1];
  const x = (time) => left + (time - t0) / Math.max(t1 - t0, 1e-9) * (w - left - right);
  groups.forEach((group, g) => {
    const top = g * (panelH + gap);
    ctx.fillStyle = "rgba(240,180,41,.25)";
    ctx.fillRect(x(data.window[0]), top, x(data.window[1]) - x(data.window[0]), panelH);
    ctx.strokeStyle = "#ddd"; ctx.strokeRect(left, top, w - left - right, panelH);
    let lo = Infinity, hi = -Infinity;
    for (const name of group.channels) {
      for (const v of data.values[data.channels.indexOf(name)]) { if (v < lo) lo = v; if (v > hi) hi = v; }
    }
    if (!(hi > lo)) { hi = lo + 1; lo -= 1; }
    const y = (v) => top + panelH - (v - lo) / (hi - lo) * panelH;
    group.channels.forEach((name, i) => {
      const values = data.values[data.channels.indexOf(name)];
      ctx.strokeStyle = COLOURS[i % COLOURS.length];
      ctx.lineWidth = 1;
      ctx.beginPath();
      values.forEach((v, k) => (k ? ctx.lineTo(x(t[k]), y(v)) : ctx.moveTo(x(t[k]), y(v))));
      ctx.stroke();
    });
    if (!small) {
      ctx.fillStyle = "#555"; ctx.font = "11px system-ui";
      ctx.fillText(group.name || group.channels.join(", "), 4, top + 12);
      group.channels.forEach((name, i) => {
        ctx.fillStyle = COLOURS[i % COLOURS.length];
        ctx.fillText(name, 4, top + 26 + 12 * i);
      });
      ctx.fillStyle = "#888";
      ctx.fillText(hi.toPrecision(3), left + 2, top + 10);
      ctx.fillText(lo.toPrecision(3), left + 2, top + panelH - 2);
    }
  });
  if (!small) {
    ctx.fillStyle = "#555";
    ctx.fillText(fmtMs(t0), left, h - 6);
    const end = fmtMs(t1);
    ctx.fillText(end, w - right - ctx.measureText(end).width, h - 6);
  }
}

function renderGrid() {
  const grid = $("grid");
  grid.replaceChildren();
  const ids = state.ids.slice(state.offset, state.offset + PAGE);
  for (const [i, id] of ids.entries()) {
    const c = state.cache.get(id);
    if (!c) continue;
    const position = state.offset + i;
    const card = el("div", {
      class: "card" + (position === state.cursor ? " selected" : ""), "data-id": c.id, tabindex: "-1",
      onclick: () => { state.cursor = position; render(); },
      ondblclick: () => { state.cursor = position; setView("single"); },
    },
    thumbnail(c),
    el("div", { class: "meta" }, el("span", { text: c.score.toFixed(3) }), badge(c)),
    el("div", { class: "meta muted" }, el("span", { text: c.item }), el("span", { text: fmtMs(c.start_ms) })));
    grid.append(card);
  }
  const pager = $("pager");
  pager.replaceChildren();
  if (state.ids.length > PAGE) {
    const page = Math.floor(state.offset / PAGE), pages = Math.ceil(state.ids.length / PAGE);
    pager.append(
      el("button", { type: "button", text: "← previous", onclick: () => goPage(page - 1) }),
      el("span", { text: `page ${page + 1} of ${pages}` }),
      el("button", { type: "button", text: "next →", onclick: () => goPage(page + 1) }));
  }
  const current = grid.querySelector(".card.selected");
  if (current) current.scrollIntoView({ block: "nearest" });
}

async function goPage(page) {
  const pages = Math.ceil(state.ids.length / PAGE);
  page = Math.max(0, Math.min(pages - 1, page));
  state.offset = page * PAGE;
  state.cursor = state.offset;
  await ensureLoaded(state.offset, PAGE);
  render();
}

function renderSingle() {
  const box = $("single");
  box.replaceChildren();
  const c = selected();
  if (!c) { box.append(el("p", { class: "muted", text: "No candidate matches these filters." })); return; }
  const facts = el("div", { class: "facts" });
  for (const [label, value] of [
    ["candidate", `${state.cursor + 1} of ${state.ids.length}`], ["score", c.score.toFixed(4)], ["tier", c.tier || "–"],
    ["item", c.item], ["group", c.group], ["time", `${fmtMs(c.start_ms)} – ${fmtMs(c.end_ms)}`],
    ["frame", c.frame ?? "–"],
  ]) facts.append(el("div", {}, el("b", { text: label }), el("span", { text: String(value) })));
  facts.append(el("div", {}, el("b", { text: "decision" }), badge(c)));
  box.append(facts);
  const m = c.media;
  if (m.image) {
    const frames = el("div", { class: "frames" });
    // a neighbour the video does not have (the first or last frame) is left out rather than shown broken
    const neighbour = (src, label) => {
      if (!src) return el("div");
      const figure = el("figure", {}, el("img", { src, alt: label, onerror: () => figure.replaceChildren(el("figcaption", { text: `no ${label}` })) }), el("figcaption", { text: label }));
      return figure;
    };
    frames.append(neighbour(m.before, "frame before"));
    frames.append(el("figure", {}, el("img", { src: m.image, alt: "candidate frame", id: "main-image" }), el("figcaption", { text: `frame ${c.frame ?? ""}` })));
    frames.append(neighbour(m.after, "frame after"));
    box.append(frames);
  } else if (m.spectrogram) {
    const span = c.context.end_ms - c.context.start_ms;
    const wrap = el("div", { class: "spectro" }, el("img", { src: m.spectrogram, alt: "spectrogram" }));
    const win = el("div", { class: "window" });
    win.style.left = (100 * (c.start_ms - c.context.start_ms) / span) + "%";
    win.style.width = (100 * (c.end_ms - c.start_ms) / span) + "%";
    const cursor = el("div", { class: "cursor" });
    cursor.style.left = "0%";
    wrap.append(win, cursor);
    const audio = el("audio", { src: m.audio, controls: "", preload: "metadata", id: "player" });
    audio.addEventListener("timeupdate", () => {
      cursor.style.left = (100 * audio.currentTime * 1000 / span) + "%";
    });
    box.append(wrap, el("div", {}, audio),
      el("p", { class: "muted", text: `audio: ${fmtMs(c.context.start_ms)} – ${fmtMs(c.context.end_ms)}; the candidate window is framed` }));
  } else if (m.signal) {
    const canvas = el("canvas", { class: "signal", width: 1100, height: 420 });
    box.append(canvas);
    drawSignalInto(canvas, c, false);
  }
  if (m.snapshot && !m.image) box.append(el("p", {}, el("a", { href: m.snapshot, target: "_blank", text: "snapshot made when mining" })));
  const keys = el("div", { class: "keys" });
  for (const k of KEYS) keys.append(el("button", { type: "button", onclick: () => decide(k) }, el("kbd", { text: k.key }), " " + k.label));
  box.append(keys);
}

function render() {
  if (state.view === "grid") { $("grid").hidden = false; $("pager").hidden = false; $("single").hidden = true; renderGrid(); }
  else { $("grid").hidden = true; $("pager").hidden = true; $("single").hidden = false; renderSingle(); }
}

function setView(view) {
  state.view = view;
  $("toggle-view").textContent = view === "grid" ? "one at a time" : "grid";
  render();
}

function setProgress(reviewed, total) {
  $("progress-text").textContent = `${reviewed} / ${total} reviewed`;
  $("progress-fill").style.width = (total ? 100 * reviewed / total : 0) + "%";
}

function message(text) {
  const box = $("message");
  box.textContent = text;
  box.hidden = !text;
  clearTimeout(message.timer);
  message.timer = setTimeout(() => { box.hidden = true; }, 6000);
}

// ------------------------------------------------------------------ charts (inline SVG)

function bars(target, labels, series, colours) {
  const width = 220, rowH = 16, labelW = 80;
  const n = labels.length;
  const max = Math.max(1, ...labels.map((_, i) => series.reduce((sum, s) => sum + s[i], 0)));
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("width", width); svg.setAttribute("height", Math.max(rowH * n, rowH));
  labels.forEach((label, i) => {
    let x = labelW;
    const text = document.createElementNS(svg.namespaceURI, "text");
    text.setAttribute("x", 0); text.setAttribute("y", i * rowH + 11); text.textContent = label;
    svg.append(text);
    series.forEach((s, k) => {
      const w = (width - labelW - 30) * s[i] / max;
      const rect = document.createElementNS(svg.namespaceURI, "rect");
      rect.setAttribute("x", x); rect.setAttribute("y", i * rowH + 2); rect.setAttribute("width", w);
      rect.setAttribute("height", rowH - 4); rect.setAttribute("fill", colours[k]);
      svg.append(rect);
      x += w;
    });
    const total = document.createElementNS(svg.namespaceURI, "text");
    total.setAttribute("x", x + 3); total.setAttribute("y", i * rowH + 11);
    total.textContent = series.reduce((sum, s) => sum + s[i], 0);
    svg.append(total);
  });
  target.replaceChildren(svg);
}

function histogram(target, edges, series, colours) {
  const width = 220, height = 80;
  const n = edges.length - 1;
  const totals = Array.from({ length: n }, (_, i) => series.reduce((sum, s) => sum + s[i], 0));
  const max = Math.max(1, ...totals);
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("width", width); svg.setAttribute("height", height + 14);
  const bw = width / n;
  for (let i = 0; i < n; i++) {
    let y = height;
    series.forEach((s, k) => {
      const h = height * s[i] / max;
      const rect = document.createElementNS(svg.namespaceURI, "rect");
      rect.setAttribute("x", i * bw); rect.setAttribute("y", y - h); rect.setAttribute("width", bw - 1);
      rect.setAttribute("height", h); rect.setAttribute("fill", colours[k]);
      svg.append(rect);
      y -= h;
    });
  }
  for (const [value, anchor] of [[edges[0], "start"], [edges[n], "end"]]) {
    const text = document.createElementNS(svg.namespaceURI, "text");
    text.setAttribute("x", anchor === "start" ? 0 : width); text.setAttribute("y", height + 12);
    text.setAttribute("text-anchor", anchor); text.textContent = value;
    svg.append(text);
  }
  target.replaceChildren(svg);
}

const STATE_COLOURS = { negative: "#2e7d32", positive: "#c62828", unsure: "#ef8f00", skip: "#757575" };

async function refreshStats() {
  let stats;
  try { stats = await api("/api/stats"); } catch (e) { return; }
  setProgress(stats.reviewed, stats.total);
  const states = Object.keys(stats.by_state);
  bars($("chart-states"), [...states, "unreviewed"],
    [[...states.map((s) => stats.by_state[s]), stats.total - stats.reviewed]], ["#2f6fb0"]);
  const cats = Object.keys(stats.by_category);
  bars($("chart-categories"), cats, [cats.map((c) => stats.by_category[c])], ["#2e7d32"]);
  $("category-counts").textContent = cats.map((c) => `${c} ${stats.by_category[c]}`).join(" · ");
  const h = stats.score_histogram;
  const reviewed = states.map((s) => h[s]);
  const rest = h.all.map((v, i) => v - reviewed.reduce((sum, s) => sum + s[i], 0));
  histogram($("chart-scores"), h.edges, [...reviewed, rest], [...states.map((s) => STATE_COLOURS[s]), "#c9c8c2"]);
  const mining = stats.mining && stats.mining.window_scores && stats.mining.window_scores.histogram;
  if (mining) histogram($("chart-mining"), mining.edges, [mining.counts], ["#2f6fb0"]);
  else $("chart-mining").textContent = "no stats.json in the mined folder";
  const agreement = $("agreement");
  agreement.replaceChildren();
  if (stats.agreement.length) {
    agreement.append(el("h2", { text: "Agreement (Cohen's kappa)" }));
    const table = el("table", { id: "agreement-table" },
      el("tr", {}, el("th", { text: "reviewers" }), el("th", { text: "both" }), el("th", { text: "agree" }), el("th", { text: "kappa" })));
    for (const row of stats.agreement) {
      table.append(el("tr", {}, el("td", { text: `${row.reviewer_a} · ${row.reviewer_b}` }), el("td", { text: row.n_both }),
        el("td", { text: row.agree }), el("td", { text: row.kappa == null ? "–" : row.kappa.toFixed(3) })));
    }
    agreement.append(table);
  }
}

// ------------------------------------------------------------------ wiring

function fillChoices() {
  const add = (select, values, label = (v) => v) => {
    for (const value of values) select.append(el("option", { value, text: label(value) }));
  };
  add($("f-state"), CONFIG.states);
  add($("f-category"), CONFIG.categories);
  add($("f-tier"), CONFIG.tiers, (t) => t.toFixed(2));
  add($("f-item"), CONFIG.items);
  add($("f-group"), CONFIG.groups);
  add($("bulk-state"), CONFIG.states);
  add($("bulk-category"), CONFIG.categories);
}

function readFilters() {
  const form = new FormData($("filters"));
  const q = {};
  for (const [key, value] of form.entries()) if (value !== "") q[key] = value;
  if (q.sort === "similar") {
    const c = selected();
    if (!c) { message("select a candidate first: similar sorts by likeness to it"); delete q.sort; }
    else q.like = c.id;
  }
  return q;
}

function onKey(event) {
  if (event.target.matches("input, select, textarea") || event.ctrlKey || event.metaKey || event.altKey) return;
  if (!$("confirm").hidden) {
    if (event.key === "Escape") $("confirm").hidden = true;
    return;
  }
  const key = event.key;
  if (key === "Escape") { $("help").hidden = true; return; }
  if (key === "?") { $("help").hidden = !$("help").hidden; event.preventDefault(); return; }
  if (!$("help").hidden) return;
  const choice = KEYS.find((k) => k.key === key);
  if (choice) { event.preventDefault(); decide(choice); return; }
  if (key === "z") { event.preventDefault(); undo(); }
  else if (key === "j" || key === "ArrowRight") { event.preventDefault(); move(1); }
  else if (key === "k" || key === "ArrowLeft") { event.preventDefault(); move(-1); }
  else if (key === "g") { setView(state.view === "grid" ? "single" : "grid"); }
  else if (key === " ") {
    const player = $("player");
    if (player) { event.preventDefault(); if (player.paused) player.play(); else player.pause(); }
  }
}

function main() {
  fillHelp();
  fillChoices();
  setProgress(0, CONFIG.total);
  document.addEventListener("keydown", onKey);
  $("filters").addEventListener("submit", (event) => { event.preventDefault(); state.query = readFilters(); reload(); });
  $("toggle-view").addEventListener("click", () => setView(state.view === "grid" ? "single" : "grid"));
  $("show-help").addEventListener("click", () => { $("help").hidden = false; });
  $("close-help").addEventListener("click", () => { $("help").hidden = true; });
  $("confirm-no").addEventListener("click", () => { $("confirm").hidden = true; });
  $("bulk-assign").addEventListener("click", bulkAssign);
  window.addEventListener("beforeunload", (event) => { if (loadQueue().length) event.preventDefault(); });
  window.addEventListener("online", pump);
  setInterval(refreshStats, 10000);
  reload().then(() => { document.body.dataset.ready = "1"; });
  pump();
}

main();
