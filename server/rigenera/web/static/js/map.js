// The public map (/): MapLibre GL JS (CSP build, loaded by map.html) over our vector tiles,
// with the style generated from styles/ (/mappa/stile.json), filters, counter, search and
// keyboard-accessible popups. No inline script: the configuration comes from #map-config.
//
// "First drawn map": the first `idle` event of the map (style, sources and tiles of the
// view loaded, every frame painted) after which queryRenderedFeatures on our layers
// returns at least one feature. map.js then sets window.rigeneraMap.firstDrawn (ms since
// navigation start) and <html data-map-drawn="1">; tests and bench/web_map.py wait on it.

const config = JSON.parse(document.getElementById("map-config").textContent);
const script = document.getElementById("map-script");
const lang = config.lang === "en" ? "en" : "it";
const T = {
  it: {projects: (n) => `${n} ${n === 1 ? "progetto pubblicato" : "progetti pubblicati"}`,
       sites: (n) => `${n} ${n === 1 ? "area" : "aree"}`, onMap: "sulla mappa",
       open: "Apri la scheda del progetto", comune: "Apri la pagina del comune",
       close: "Chiudi", results: (n) => n === 1 ? "1 risultato" : n ? `${n} risultati` : "Nessun risultato",
       status: "Stato", cup: "CUP", body: "Soggetto attuatore", cost: "Costo totale",
       state: "Stato d'uso", surface: "Superficie", lines: "Linee", mode: "Modo",
       kind: "Tipo", operator: "Gestore", length: "Lunghezza", population: "Abitanti",
       project: "Progetto", site: "Area", stop: "Fermata", link: "Collegamento",
       loading: "Caricamento…", error: "Conteggio non disponibile", noLocation: "senza posizione"},
  en: {projects: (n) => `${n} published ${n === 1 ? "project" : "projects"}`,
       sites: (n) => `${n} ${n === 1 ? "site" : "sites"}`, onMap: "on the map",
       open: "Open the project's page", comune: "Open the comune's page",
       close: "Close", results: (n) => n === 1 ? "1 result" : n ? `${n} results` : "No results",
       status: "Status", cup: "CUP", body: "Implementing body", cost: "Total cost",
       state: "State", surface: "Surface", lines: "Lines", mode: "Mode",
       kind: "Kind", operator: "Operator", length: "Length", population: "Population",
       project: "Project", site: "Site", stop: "Stop", link: "Link",
       loading: "Loading…", error: "Count not available", noLocation: "no location"},
}[lang];
const fmt = new Intl.NumberFormat(lang === "it" ? "it-IT" : "en-GB", {maximumFractionDigits: 0});
const eur = new Intl.NumberFormat(lang === "it" ? "it-IT" : "en-GB",
                                  {style: "currency", currency: "EUR", maximumFractionDigits: 0});
const OURS = ["projects", "sites", "transit_stops", "mobility_links", "comuni"];  // click priority

const state = {map: null, firstDrawn: null, baseFilters: {}, labels: {}, popup: null,
               returnFocus: null, counts: null};
window.rigeneraMap = state;

// Legend swatches: colours set through the CSSOM (no inline style attribute for the CSP).
for (const el of document.querySelectorAll(".swatch[data-colour]")) {
  el.style.backgroundColor = el.dataset.colour;
}
if (window.matchMedia("(max-width: 44rem)").matches) {
  for (const d of document.querySelectorAll(".map-panel details")) d.open = false;
}

maplibregl.setWorkerUrl(script.dataset.worker);
const map = new maplibregl.Map({
  container: "map", style: config.style, center: config.center, zoom: config.zoom,
  attributionControl: {compact: true}, cooperativeGestures: false,
});
state.map = map;
map.addControl(new maplibregl.NavigationControl({showCompass: false}), "top-right");
map.addControl(new maplibregl.ScaleControl({unit: "metric"}), "bottom-right");

function ourLayers() {
  return map.getStyle().layers.filter((l) => OURS.includes(l.source)).map((l) => l.id);
}

map.on("load", () => {
  const style = map.getStyle();
  for (const layer of style.layers) state.baseFilters[layer.id] = layer.filter;
  for (const entry of style.metadata["rigenera:legend"]) {
    state.labels[entry.collection] = Object.fromEntries(entry.classes.map((c) => [c.code, c.label]));
  }
  readFiltersFromUrl();
  applyFilters(false);
  map.getCanvas().setAttribute("aria-label", document.getElementById("map").getAttribute("aria-label"));
});

function markDrawn() {
  if (state.firstDrawn !== null) return;
  if (map.queryRenderedFeatures({layers: ourLayers()}).length > 0) {
    state.firstDrawn = performance.now();
    document.documentElement.dataset.mapDrawn = "1";
    map.off("idle", markDrawn);
  }
}
map.on("idle", markDrawn);

// ------------------------------------------------------------------ filters and counter
const form = document.getElementById("map-filters");
const counter = document.getElementById("map-counter");
const FIELDS = ["istat_code", "status", "programme", "phase", "outcome"];
const COLOUR_PAINT = {fill: "fill-color", line: "line-color", circle: "circle-color"};
const originalColours = {};

// Projects coloured by status (the QGIS style) or by programme: the first funding source of
// config.programme_colours the project has (tiles.projects.programmes, migration 0025).
function colourBy(mode) {
  const byProgramme = ["case"];
  for (const p of config.programme_colours) byProgramme.push(listHas("programmes", p.code), p.colour);
  byProgramme.push(config.no_programme_colour);
  for (const layer of map.getStyle().layers) {
    const prop = COLOUR_PAINT[layer.type];
    if (layer.source !== "projects" || !prop) continue;
    if (!(layer.id in originalColours)) originalColours[layer.id] = map.getPaintProperty(layer.id, prop);
    map.setPaintProperty(layer.id, prop, mode === "programme" ? byProgramme : originalColours[layer.id]);
  }
  document.getElementById("legend-projects-status").hidden = mode === "programme";
  document.getElementById("legend-projects-programme").hidden = mode !== "programme";
}

function values() {
  const data = new FormData(form);
  colourBy(data.get("colour"));
  return Object.fromEntries(FIELDS.map((f) => [f, data.get(f) || ""]));
}

function readFiltersFromUrl() {
  const params = new URLSearchParams(location.search);
  if (params.get("colour") === "programme") form.elements.colour.value = "programme";
  for (const f of FIELDS) {
    const v = params.get(f);
    if (v && form.elements[f].querySelector(`option[value="${CSS.escape(v)}"]`)) form.elements[f].value = v;
  }
}

const listHas = (field, code) => ["in", `,${code},`, ["concat", ",", ["coalesce", ["get", field], ""], ","]];

function extraFilters(source, v) {
  const out = [];
  if (source === "projects") {
    if (v.istat_code) out.push(listHas("istat_codes", v.istat_code));
    if (v.status) out.push(["==", ["get", "status"], v.status]);
    if (v.programme) out.push(listHas("programmes", v.programme));
    if (v.phase) out.push(["==", ["get", "phase"], v.phase]);
    if (v.outcome) out.push(["==", ["get", `outcome_${v.outcome}`], true]);
  } else if (source === "sites" && v.istat_code) {
    out.push(["==", ["get", "istat_code"], v.istat_code]);
  }
  return out;
}

let countsRequest = 0;
async function applyFilters(zoom) {
  const v = values();
  for (const layer of map.getStyle().layers) {
    if (layer.source !== "projects" && layer.source !== "sites") continue;
    const parts = extraFilters(layer.source, v);
    const base = state.baseFilters[layer.id];
    const all = [...(base ? [base] : []), ...parts];
    map.setFilter(layer.id, all.length === 0 ? null : all.length === 1 ? all[0] : ["all", ...all]);
  }
  const params = new URLSearchParams(Object.entries(v).filter(([, x]) => x));
  const colour = new FormData(form).get("colour");
  if (colour !== "status") params.set("colour", colour);
  history.replaceState(null, "", `${location.pathname}${params.size ? "?" + params : ""}`);
  const mine = ++countsRequest;
  counter.dataset.ready = "0";
  try {
    const asked = new URLSearchParams(params);
    asked.delete("colour");
    const r = await fetch(`${config.counts}?${asked}`, {headers: {Accept: "application/json"}});
    if (!r.ok) throw new Error(String(r.status));
    const data = await r.json();
    if (mine !== countsRequest) return;
    state.counts = data;
    counter.textContent = `${T.projects(fmt.format(data.projects))} · ${T.sites(fmt.format(data.sites))} ${T.onMap}`;
    counter.dataset.projects = data.projects;
    counter.dataset.sites = data.sites;
    counter.dataset.ready = "1";
    if (zoom && data.bbox) map.fitBounds(data.bbox, {padding: 40, maxZoom: 14});
  } catch {
    if (mine === countsRequest) counter.textContent = T.error;
  }
}

form.addEventListener("submit", (e) => { e.preventDefault(); applyFilters(true); });
form.addEventListener("change", (e) => applyFilters(e.target.name === "istat_code"));
form.addEventListener("reset", () => setTimeout(() => applyFilters(false), 0));

// ------------------------------------------------------------------------------ popups
function el(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}

function facts(rows) {
  const dl = el("dl", {class: "facts"});
  for (const [k, v] of rows) {
    if (v === null || v === undefined || v === "") continue;
    dl.append(el("dt", {}, k), el("dd", {}, String(v)));
  }
  return dl;
}

function linkPara(href, text) {
  const p = el("p");
  p.append(el("a", {href}, text));
  return p;
}

async function itemProps(collection, id) {
  const r = await fetch(`/ogc/collections/${collection}/items/${encodeURIComponent(id)}?f=json&lang=${lang}`,
                        {headers: {Accept: "application/geo+json"}});
  if (!r.ok) throw new Error(String(r.status));
  return (await r.json()).properties;
}

async function popupContent(collection, id, props) {
  const box = el("div", {class: "map-popup"});
  const L = state.labels;
  if (collection === "comuni") {
    box.append(el("h2", {}, props.name), facts([[T.population, props.population != null ? fmt.format(props.population) : null]]));
    box.append(linkPara(`/comuni/${props.istat_code}`, T.comune));
    return box;
  }
  const p = await itemProps(collection, id);
  if (collection === "projects") {
    box.append(el("p", {class: "kind"}, T.project), el("h2", {}, p.title));
    box.append(facts([[T.status, L.projects?.[p.status] ?? p.status], [T.cup, p.cup],
                      [T.body, p.implementing_body],
                      [T.cost, p.total_cost_eur != null ? eur.format(p.total_cost_eur) : null]]));
    box.append(linkPara(`/progetti/${id}`, T.open));
  } else if (collection === "sites") {
    box.append(el("p", {class: "kind"}, T.site), el("h2", {}, p.name || `#${id}`));
    box.append(facts([[T.state, L.sites?.[p.state] ?? p.state],
                      [T.surface, p.surface_m2 != null ? `${fmt.format(p.surface_m2)} m²` : null]]));
  } else if (collection === "transit_stops") {
    box.append(el("p", {class: "kind"}, T.stop), el("h2", {}, p.name || `#${id}`));
    box.append(facts([[T.mode, L.transit_stops?.[p.mode] ?? p.mode],
                      [T.lines, Array.isArray(p.lines) ? p.lines.join(", ") : p.lines],
                      [T.operator, p.operator]]));
  } else {
    box.append(el("p", {class: "kind"}, T.link), el("h2", {}, p.name || (L.mobility_links?.[p.kind] ?? p.kind)));
    box.append(facts([[T.kind, L.mobility_links?.[p.kind] ?? p.kind], [T.operator, p.operator],
                      [T.length, p.length_m != null ? `${fmt.format(p.length_m)} m` : null]]));
  }
  return box;
}

function closePopup() {
  if (!state.popup) return;
  const back = state.returnFocus;
  const popup = state.popup;
  state.popup = null;
  popup.remove();
  if (back && document.contains(back)) back.focus();
}

async function openPopup(collection, id, props, lngLat, returnFocus) {
  if (state.popup) { state.returnFocus = null; closePopup(); }
  const content = await popupContent(collection, id, props);
  state.returnFocus = returnFocus;
  const popup = new maplibregl.Popup({closeButton: true, closeOnClick: true, focusAfterOpen: false,
                                      maxWidth: "22rem"})
    .setLngLat(lngLat).setDOMContent(content).addTo(map);
  state.popup = popup;
  const node = popup.getElement();
  node.setAttribute("role", "dialog");
  node.setAttribute("aria-label", content.querySelector("h2").textContent);
  const close = node.querySelector(".maplibregl-popup-close-button");
  if (close) { close.setAttribute("aria-label", T.close); close.setAttribute("title", T.close); }
  node.addEventListener("keydown", (e) => { if (e.key === "Escape") { e.stopPropagation(); closePopup(); } });
  popup.on("close", () => { if (state.popup === popup) { state.popup = null; } });
  (node.querySelector("a") || close)?.focus();
}

document.addEventListener("keydown", (e) => { if (e.key === "Escape" && state.popup) closePopup(); });

function featureAt(point) {
  const layers = ourLayers();
  const found = map.queryRenderedFeatures(point, {layers});
  for (const source of OURS) {
    const f = found.find((x) => x.source === source);
    if (f) return f;
  }
  return null;
}

function openFeature(f, lngLat, returnFocus) {
  const id = f.source === "comuni" ? f.properties.istat_code : f.id;
  openPopup(f.source, id, f.properties, lngLat, returnFocus).catch((e) => console.error("popup", e));
}

map.on("click", (e) => {
  const f = featureAt(e.point);
  if (f) openFeature(f, e.lngLat, map.getCanvas());
});
map.on("mousemove", (e) => {
  map.getCanvas().style.cursor = featureAt(e.point) && featureAt(e.point).source !== "comuni" ? "pointer" : "";
});
map.getCanvas().addEventListener("keydown", (e) => {
  if (e.key !== "Enter") return;
  const c = map.getCenter();
  const f = featureAt(map.project(c));
  if (f) openFeature(f, c, map.getCanvas());
});

// ------------------------------------------------------------------------------ search
const searchForm = document.getElementById("map-search");
const input = document.getElementById("map-q");
const list = document.getElementById("map-results");
const status = document.getElementById("map-results-status");
let searchTimer = null;
let searchRequest = 0;

async function search() {
  const q = input.value.trim();
  const mine = ++searchRequest;
  if (q.length < 2) { list.replaceChildren(); status.textContent = ""; return; }
  const r = await fetch(`${config.search}?q=${encodeURIComponent(q)}`, {headers: {Accept: "application/json"}});
  if (!r.ok || mine !== searchRequest) return;
  const {results} = await r.json();
  list.replaceChildren(...results.map((res) => {
    const li = el("li");
    const b = el("button", {type: "button", class: "map-result", "data-kind": res.kind, "data-id": res.id});
    b.append(el("span", {class: "label"}, res.label),
             el("span", {class: "detail"}, res.kind === "comune" ? (lang === "it" ? "Comune" : "Comune")
                                             : (res.detail || "") + (res.center ? "" : ` (${T.noLocation})`)));
    b.addEventListener("click", () => choose(res, b));
    li.append(b);
    return li;
  }));
  status.textContent = T.results(results.length);
}

function choose(res, button) {
  if (!res.center) { location.href = res.href; return; }
  const props = res.kind === "comune" ? {name: res.label, istat_code: res.id} : {};
  const collection = res.kind === "comune" ? "comuni" : "projects";
  const [w, s, e, n] = res.bbox;
  if (e - w < 1e-6 && n - s < 1e-6) map.flyTo({center: res.center, zoom: 15});
  else map.fitBounds(res.bbox, {padding: 60, maxZoom: 16});
  // The popup follows its position while the camera moves: opened at once, focus in it.
  if (res.kind === "comune") {
    fetch(`/ogc/collections/comuni/items/${res.id}?f=json`).then((r) => r.json())
      .then((f) => openPopup("comuni", res.id, f.properties, res.center, button))
      .catch((e) => console.error("popup", e));
  } else {
    openPopup(collection, res.id, props, res.center, button).catch((e) => console.error("popup", e));
  }
}

input.addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(search, 200); });
searchForm.addEventListener("submit", (e) => { e.preventDefault(); clearTimeout(searchTimer); search(); });
input.addEventListener("keydown", (e) => {
  if (e.key === "ArrowDown" && list.firstElementChild) { e.preventDefault(); list.querySelector("button").focus(); }
});
list.addEventListener("keydown", (e) => {
  const buttons = [...list.querySelectorAll("button")];
  const i = buttons.indexOf(document.activeElement);
  if (e.key === "ArrowDown" && i < buttons.length - 1) { e.preventDefault(); buttons[i + 1].focus(); }
  if (e.key === "ArrowUp") { e.preventDefault(); (i > 0 ? buttons[i - 1] : input).focus(); }
  if (e.key === "Escape") { input.focus(); }
});
