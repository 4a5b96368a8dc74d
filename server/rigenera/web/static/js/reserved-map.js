// The reserved area's map and API helpers, shared by review.js and locate.js (ES module).
// MapLibre GL JS (CSP build, served from /static/vendor; no CDN) over our own vector tiles:
// comuni, sites and projects as context, and the feature being worked on as GeoJSON.
// Writes go to the API with the session cookie and the X-CSRF-Token header (sessions.py).

export const METRO_BOUNDS = [[8.70, 45.16], [9.56, 45.65]];

/** The JSON of a <script type="application/json" id="..."> block (null when absent). */
export function readJson(id) {
  const el = document.getElementById(id);
  return el ? JSON.parse(el.textContent) : null;
}

/** A message with {name} placeholders filled in. */
export function fill(text, values) {
  return text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));
}

function tiles(collection) {
  return {
    type: "vector",
    tiles: [`${location.origin}/ogc/collections/${collection}/tiles/WebMercatorQuad/{z}/{y}/{x}?f=mvt`],
    minzoom: 0,
    maxzoom: 16,
  };
}

const EMPTY = { type: "FeatureCollection", features: [] };

/** The style: only our layers (no background map), so it works with no internet. */
function style() {
  const isPoint = ["==", ["geometry-type"], "Point"];
  const isArea = ["==", ["geometry-type"], "Polygon"];
  return {
    version: 8,
    sources: { comuni: tiles("comuni"), sites: tiles("sites"), projects: tiles("projects"),
               target: { type: "geojson", data: EMPTY }, marks: { type: "geojson", data: EMPTY } },
    layers: [
      { id: "background", type: "background", paint: { "background-color": "#eef2f5" } },
      { id: "comuni-fill", type: "fill", source: "comuni", "source-layer": "comuni",
        paint: { "fill-color": "#ffffff", "fill-opacity": 0.9 } },
      { id: "comuni-line", type: "line", source: "comuni", "source-layer": "comuni",
        paint: { "line-color": "#6b7683", "line-width": 1 } },
      { id: "sites-fill", type: "fill", source: "sites", "source-layer": "sites", filter: isArea,
        paint: { "fill-color": "#0b5394", "fill-opacity": 0.2 } },
      { id: "sites-line", type: "line", source: "sites", "source-layer": "sites", filter: isArea,
        paint: { "line-color": "#0b5394", "line-width": 1 } },
      { id: "projects-fill", type: "fill", source: "projects", "source-layer": "projects",
        filter: isArea, paint: { "fill-color": "#1e6b35", "fill-opacity": 0.15 } },
      { id: "projects-line", type: "line", source: "projects", "source-layer": "projects",
        filter: isArea, paint: { "line-color": "#1e6b35", "line-width": 1 } },
      { id: "projects-point", type: "circle", source: "projects", "source-layer": "projects",
        filter: isPoint, paint: { "circle-radius": 4, "circle-color": "#1e6b35",
                                  "circle-stroke-color": "#fff", "circle-stroke-width": 1 } },
      { id: "target-fill", type: "fill", source: "target", filter: isArea,
        paint: { "fill-color": "#b3261e", "fill-opacity": 0.3 } },
      { id: "target-line", type: "line", source: "target",
        filter: ["!=", ["geometry-type"], "Point"],
        paint: { "line-color": "#b3261e", "line-width": 3 } },
      { id: "target-point", type: "circle", source: "target", filter: isPoint,
        paint: { "circle-radius": 7, "circle-color": "#b3261e",
                 "circle-stroke-color": "#fff", "circle-stroke-width": 2 } },
      { id: "marks-point", type: "circle", source: "marks",
        paint: { "circle-radius": 6, "circle-color": "#e69f00",
                 "circle-stroke-color": "#000", "circle-stroke-width": 1.5 } },
    ],
  };
}

/** A MapLibre map in `container` (its `lang` decides the control labels). */
export function makeMap(container, workerUrl, lang) {
  const maplibregl = window.maplibregl;
  if (workerUrl) maplibregl.setWorkerUrl(workerUrl);
  const it = lang === "it";
  const map = new maplibregl.Map({
    container,
    style: style(),
    bounds: METRO_BOUNDS,
    attributionControl: false,
    locale: it ? {
      "NavigationControl.ZoomIn": "Ingrandisci", "NavigationControl.ZoomOut": "Riduci",
      "NavigationControl.ResetBearing": "Ripristina l'orientamento",
    } : {},
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
  // When the first view is fully drawn (tests and measurements wait for it).
  map.once("idle", () => { map.getContainer().dataset.ready = String(Math.round(performance.now())); });
  return map;
}

/** Every [lon, lat] of a GeoJSON geometry. */
export function positions(geometry) {
  const out = [];
  const walk = (c) => {
    if (typeof c[0] === "number") out.push(c);
    else c.forEach(walk);
  };
  if (!geometry) return out;
  if (geometry.type === "GeometryCollection") geometry.geometries.forEach((g) => out.push(...positions(g)));
  else walk(geometry.coordinates);
  return out;
}

/** Zoom to a geometry (a point: a street-level view around it). */
export function fitTo(map, geometry) {
  const pts = positions(geometry);
  if (!pts.length) return;
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const bounds = [[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]];
  map.fitBounds(bounds, { padding: 40, maxZoom: 17, duration: 0 });
}

/** Show a geometry as the map's target (red). */
export function showTarget(map, geometry) {
  const data = geometry ? { type: "Feature", properties: {}, geometry } : EMPTY;
  map.getSource("target").setData(data);
}

/** Orange markers (problems found by the checks, or a polygon's vertices). */
export function showMarks(map, points) {
  map.getSource("marks").setData({
    type: "FeatureCollection",
    features: points.map((p) => ({ type: "Feature", properties: {},
                                   geometry: { type: "Point", coordinates: p } })),
  });
}

/** Call our API as the logged-in user: cookie + X-CSRF-Token. Resolves to
 *  {status, ok, data, headers}; data is the parsed JSON body (or null). */
export async function api(method, url, body, headers = {}) {
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const init = {
    method,
    credentials: "same-origin",
    headers: { "X-CSRF-Token": token, Accept: "application/json", ...headers },
  };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    if (!init.headers["Content-Type"]) init.headers["Content-Type"] = "application/json";
  }
  const r = await fetch(url, init);
  let data = null;
  const text = await r.text();
  if (text) {
    try { data = JSON.parse(text); } catch { data = { description: text }; }
  }
  return { status: r.status, ok: r.ok, data, headers: r.headers };
}

/** The API's reason for a refusal, with the fields it names. */
export function reason(data) {
  if (!data) return "";
  const fields = (data.errors || []).map((e) => `${e.field}: ${e.reason}`).join("; ");
  return [data.description || data.detail || "", fields].filter(Boolean).join(" – ");
}

/** Put a message in a live region, as a notice or a warning. */
export function say(el, text, kind) {
  el.replaceChildren();
  const p = document.createElement("p");
  p.className = kind === "ok" ? "notice" : "warning";
  p.textContent = text;
  el.append(p);
}
