// rnnlab's page: pick a model, send text or a CSV, show entities / the template / the label / the forecast.
// Plain DOM code, no libraries; user text is only ever inserted with textContent.
"use strict";

const PALETTE = ["#ffd166", "#8fd3fe", "#b8e986", "#ffadad", "#d0b3ff", "#ffc6a5", "#a0e7e5", "#f7aef8",
  "#c7ceea", "#e2f0cb", "#ffdac1", "#b5ead7", "#f3c6d3", "#d4e09b"];
const colours = {};
function colour(type) {
  if (!(type in colours)) colours[type] = PALETTE[Object.keys(colours).length % PALETTE.length];
  return colours[type];
}
const $ = (id) => document.getElementById(id);
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "style") node.style.cssText = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

let models = [];
function current() { return models.find((m) => m.name === $("model").value); }

// The API key, when the service has one: typed once, kept for this tab only (sessionStorage), sent as X-API-Key.
const KEY = "rnnlab-api-key";
async function call(url, options = {}) {
  const key = sessionStorage.getItem(KEY);
  const headers = { ...(options.headers || {}), ...(key ? { "X-API-Key": key } : {}) };
  const answer = await fetch(url, { ...options, headers });
  if (answer.status === 401) $("key-panel").hidden = false;
  return answer;
}

function showError(status, data) {
  const detail = typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail);
  $("status").textContent = `error ${status}: ${detail}`;
  $("status").className = "error";
}

async function loadModels() {
  const answer = await call("/v1/models");
  const data = await answer.json();
  if (!answer.ok) { showError(answer.status, data); return; }
  models = data;
  $("model").replaceChildren();
  for (const m of models) $("model").append(el("option", { value: m.name }, `${m.name} (${m.task})`));
  choose();
}

function choose() {
  const m = current();
  $("output").replaceChildren();
  $("status").textContent = "";
  if (!m) return;
  $("task").textContent = m.task;
  $("text-panel").hidden = m.input !== "texts";
  $("csv-panel").hidden = m.input !== "csv";
  const examples = {
    tagger: "Maria Lopez flew from Madrid to Tokyo for Sony .",
    classifier: "A moving, beautifully acted film.",
    extractor: "Vente Villa 4 pièces Nice (06000) Réf. 12390: superbe villa (190m²), 2 chambres, " +
      "3 salles de bain, construite en 2005. 1 270 000 euros. Contactez Mimi LASOURIS 06.43.43.43.43",
  };
  if (!$("text").value && examples[m.task]) $("text").value = examples[m.task];
}

async function predict(body) {
  const m = current();
  $("status").textContent = "running…";
  $("status").className = "muted";
  const answer = await call(`/v1/models/${encodeURIComponent(m.name)}/predict`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const data = await answer.json();
  if (!answer.ok) { showError(answer.status, data); return null; }
  $("status").textContent = `${m.task} answered in ${data.milliseconds.toFixed(1)} ms`;
  return data;
}

// text with highlighted spans [{start, end, type}] (non-overlapping), displaCy style; the service's offsets
// count code points (Python's str), so the text is sliced as code points, not UTF-16 units (an emoji is two)
function highlighted(text, spans) {
  const doc = el("div", { class: "doc" });
  const chars = Array.from(text);
  const slice = (from, to) => chars.slice(from, to).join("");
  let at = 0;
  for (const s of [...spans].sort((a, b) => a.start - b.start)) {
    if (s.start < at) continue;
    doc.append(slice(at, s.start));
    const mark = el("mark", { class: "ent", "data-type": s.type, style: `background:${colour(s.type)}` },
      slice(s.start, s.end), el("span", { class: "label" }, s.type));
    if (s.score !== undefined) mark.title = `score ${s.score.toFixed(3)}`;
    doc.append(mark);
    at = s.end;
  }
  doc.append(slice(at));
  return doc;
}

function showTagger(result) {
  $("output").replaceChildren(highlighted(result.text, result.spans),
    el("p", { class: "muted" }, `${result.spans.length} entities, ${result.tokens.length} tokens`));
}

function showClassifier(result) {
  const table = el("table", { id: "probabilities" });
  const sorted = Object.entries(result.probabilities).sort((a, b) => b[1] - a[1]);
  for (const [label, p] of sorted) {
    table.append(el("tr", {}, el("td", {}, label), el("td", {}, p.toFixed(3)),
      el("td", {}, el("span", { class: "bar", style: `width:${Math.round(200 * p)}px` }))));
  }
  $("output").replaceChildren(el("p", {}, "label: ", el("span", { class: "label-big", id: "label" }, result.label)),
    table);
  if (result.explanation) $("output").append(explanation(result.explanation));
}

// which words decided: each token shaded by its weight (attention, or its share of the max-pooled features)
function explanation(why) {
  const top = Math.max(...why.weights, 1e-9);
  const words = el("div", { class: "doc", id: "explanation" });
  why.tokens.forEach((token, i) => {
    const w = why.weights[i];
    const word = el("span", { class: "weight", style: `background:rgba(255,160,0,${(w / top).toFixed(3)})` }, token);
    word.title = `${why.method} weight ${w.toFixed(3)}`;
    words.append(word, " ");
  });
  return el("div", {}, el("p", { class: "muted" }, `which words decided (${why.method}; darker: more)`), words);
}

function showExtractor(result) {
  const spans = [];
  const table = el("table", { id: "template" }, el("tr", {}, el("th", {}, "field"), el("th", {}, "value"),
    el("th", {}, "confidence")));
  for (const [field, slot] of Object.entries(result.template)) {
    const filled = slot !== null && slot !== undefined;
    if (filled && slot.start !== null && slot.start !== undefined) {
      spans.push({ start: slot.start, end: slot.end, type: field });
    }
    table.append(el("tr", { "data-field": field }, el("td", {}, field),
      el("td", filled ? {} : { class: "empty" }, filled ? String(slot.value) : "—"),
      el("td", {}, filled && slot.confidence !== undefined ? Number(slot.confidence).toFixed(2) : "")));
  }
  $("output").replaceChildren(el("div", { class: "columns" }, highlighted(result.text, spans), table));
}

// the forecast's lowest and highest quantile of `target` ({target}_q{level} lists), or null for a point model
function band(series, target, levels) {
  if (!levels || levels.length < 2) return null;
  const find = (level) => Object.keys(series.forecast).find((k) => k.startsWith(`${target}_q`) &&
    Number(k.slice(target.length + 2)) === level);
  const lo = find(levels[0]), hi = find(levels[levels.length - 1]);
  return lo && hi ? { lower: series.forecast[lo], upper: series.forecast[hi],
    share: Math.round((levels[levels.length - 1] - levels[0]) * 100) } : null;
}

function lineChart(series, target, levels) {
  const w = 720, h = 260, pad = 40;
  const hist = series.history[target], fut = series.forecast[target];
  const interval = band(series, target, levels);
  const all = hist.concat(fut, interval ? interval.lower.concat(interval.upper) : []);
  const lo = Math.min(...all), hi = Math.max(...all), n = all.length;
  const x = (i) => pad + (i * (w - 2 * pad)) / Math.max(1, n - 1);
  const y = (v) => h - pad - ((v - lo) * (h - 2 * pad)) / Math.max(1e-12, hi - lo);
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("width", w); svg.setAttribute("height", h); svg.setAttribute("class", "forecast-plot");
  const path = (values, offset, stroke, dash) => {
    const p = document.createElementNS(ns, "polyline");
    p.setAttribute("points", values.map((v, i) => `${x(i + offset)},${y(v)}`).join(" "));
    p.setAttribute("fill", "none"); p.setAttribute("stroke", stroke); p.setAttribute("stroke-width", "2");
    if (dash) p.setAttribute("stroke-dasharray", "5 3");
    return p;
  };
  const text = (s, tx, ty) => {
    const t = document.createElementNS(ns, "text");
    t.setAttribute("x", tx); t.setAttribute("y", ty); t.textContent = s; return t;
  };
  if (interval) {  // the interval as a shaded band under the lines
    const poly = document.createElementNS(ns, "polygon");
    const top = interval.upper.map((v, i) => `${x(i + hist.length)},${y(v)}`);
    const bottom = interval.lower.map((v, i) => `${x(i + hist.length)},${y(v)}`).reverse();
    poly.setAttribute("points", top.concat(bottom).join(" "));
    poly.setAttribute("fill", "#e4572e"); poly.setAttribute("fill-opacity", "0.2"); poly.setAttribute("class", "band");
    svg.append(poly);
  }
  const legend = `${target}: history (blue), forecast (orange)` +
    (interval ? `, ${interval.share} % interval (shaded)` : "");
  svg.append(path(hist, 0, "#4f7cff"), path([hist[hist.length - 1], ...fut], hist.length - 1, "#e4572e", true),
    text(hi.toPrecision(4), 2, pad), text(lo.toPrecision(4), 2, h - pad), text(legend, pad, 14));
  return svg;
}

function showForecast(result) {
  const out = [];
  for (const s of result.series) {
    out.push(el("h3", {}, `series ${s.id}`));
    for (const t of result.targets) out.push(lineChart(s, t, result.quantiles));
  }
  $("output").replaceChildren(...out);
}

const SHOW = { tagger: showTagger, classifier: showClassifier, extractor: showExtractor };

$("model").addEventListener("change", choose);
$("key-panel").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY, $("api-key").value.trim());
  $("api-key").value = "";
  $("key-panel").hidden = true;
  $("status").textContent = "";
  $("status").className = "muted";
  loadModels();
});
$("run-text").addEventListener("click", async () => {
  const m = current();
  const data = await predict({ text: $("text").value });
  if (data) SHOW[m.task](data.results[0]);
});
$("run-csv").addEventListener("click", async () => {
  const file = $("csv").files[0];
  if (!file) { $("status").textContent = "choose a CSV file first"; return; }
  const data = await predict({ csv: await file.text() });
  if (data) showForecast(data.results[0]);
});
loadModels();
