// The queue "Da localizzare" (/area-riservata/da-localizzare): draw a project's real place –
// a point (a click, or longitude/latitude typed in) or a polygon (a click per vertex) –
// and save it through the editing service: PATCH /ogc/collections/projects/items/{id} with
// If-Match of the version the page was drawn on, so a change made meanwhile is a 412 and
// nothing is overwritten. The database then makes the project 'digitised' (migration 0015)
// and it leaves the queue.
import { api, fill, fitTo, makeMap, readJson, reason, say, showMarks, showTarget } from "./reserved-map.js";

const text = readJson("lc-text");
const feature = readJson("lc-feature");
const lang = document.documentElement.lang;
const round = (v) => Math.round(v * 1e7) / 1e7;

const state = { mode: "point", point: null, vertices: [], closed: false };
let map = null;

/** The drawn geometry, or null while it is not complete. */
function drawn() {
  if (state.mode === "point") return state.point ? { type: "Point", coordinates: state.point } : null;
  if (state.closed && state.vertices.length >= 3) {
    return { type: "Polygon", coordinates: [[...state.vertices, state.vertices[0]]] };
  }
  return null;
}

function render() {
  const geometry = drawn();
  const draft = document.getElementById("lc-draft");
  if (state.mode === "point" && state.point) {
    draft.textContent = fill(text.point, { x: state.point[0], y: state.point[1] });
  } else if (state.mode === "polygon" && state.vertices.length) {
    draft.textContent = fill(state.closed ? text.polygon : text.vertices, { n: state.vertices.length });
  } else {
    draft.textContent = text.nothing;
  }
  document.getElementById("lc-save").disabled = geometry === null || !feature;
  document.getElementById("lc-undo").disabled = state.mode !== "polygon" || !state.vertices.length;
  document.getElementById("lc-close").disabled = state.mode !== "polygon" || state.closed || state.vertices.length < 3;
  if (!map || !map.isStyleLoaded()) return;
  if (geometry) {
    showTarget(map, geometry);
  } else if (state.mode === "polygon" && state.vertices.length >= 2) {
    showTarget(map, { type: "LineString", coordinates: state.vertices });
  } else {
    showTarget(map, null);
  }
  if (state.mode === "polygon") showMarks(map, state.vertices);
  else if (!state.point && feature && feature.geometry) showMarks(map, positionsOf(feature.geometry));
  else showMarks(map, []);
}

function positionsOf(geometry) {
  return geometry.type === "Point" ? [geometry.coordinates]
    : geometry.type === "MultiPoint" ? geometry.coordinates : [];
}

function reset() {
  state.point = null;
  state.vertices = [];
  state.closed = false;
}

if (feature) {
  const worker = document.getElementById("lc-module").dataset.worker;
  map = makeMap("lc-map", worker, lang);
  map.getCanvas().style.cursor = "crosshair";
  map.on("load", () => {
    if (feature.geometry) fitTo(map, feature.geometry);
    if (feature.geometry && feature.geometry.type === "Point") map.jumpTo({ zoom: 13 });
    render();
  });
  map.on("click", (e) => {
    const at = [round(e.lngLat.lng), round(e.lngLat.lat)];
    if (state.mode === "point") {
      state.point = at;
      document.getElementById("lc-lon").value = String(at[0]);
      document.getElementById("lc-lat").value = String(at[1]);
    } else if (!state.closed) {
      state.vertices.push(at);
    }
    render();
  });

  document.querySelectorAll('input[name="lc-mode"]').forEach((radio) => {
    radio.addEventListener("change", () => {
      state.mode = radio.value;
      reset();
      render();
    });
  });
  document.getElementById("lc-undo").addEventListener("click", () => {
    state.vertices.pop();
    state.closed = false;
    render();
  });
  document.getElementById("lc-close").addEventListener("click", () => {
    if (state.vertices.length >= 3) state.closed = true;
    render();
  });
  document.getElementById("lc-clear").addEventListener("click", () => {
    reset();
    render();
  });

  document.getElementById("lc-coords").addEventListener("submit", (event) => {
    event.preventDefault();
    const err = document.getElementById("lc-coords-error");
    const lonEl = document.getElementById("lc-lon");
    const latEl = document.getElementById("lc-lat");
    const lon = Number(lonEl.value.trim().replace(",", "."));
    const lat = Number(latEl.value.trim().replace(",", "."));
    lonEl.removeAttribute("aria-invalid");
    latEl.removeAttribute("aria-invalid");
    const problems = [];
    if (!lonEl.value.trim() || !Number.isFinite(lon) || lon < -180 || lon > 180) {
      problems.push(text.badLon);
      lonEl.setAttribute("aria-invalid", "true");
    }
    if (!latEl.value.trim() || !Number.isFinite(lat) || lat < -90 || lat > 90) {
      problems.push(text.badLat);
      latEl.setAttribute("aria-invalid", "true");
    }
    if (problems.length) {
      err.textContent = problems.join(" ");
      err.hidden = false;
      (lonEl.hasAttribute("aria-invalid") ? lonEl : latEl).focus();
      return;
    }
    err.hidden = true;
    err.textContent = "";
    document.querySelector('input[name="lc-mode"][value="point"]').checked = true;
    state.mode = "point";
    reset();
    state.point = [round(lon), round(lat)];
    render();
    if (map.isStyleLoaded()) map.jumpTo({ center: state.point, zoom: Math.max(map.getZoom(), 15) });
  });

  const saveForm = document.getElementById("lc-save-form");
  saveForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const geometry = drawn();
    if (!geometry) return;
    const out = document.getElementById("lc-result");
    const save = document.getElementById("lc-save");
    const mine = saveForm.dataset.version;
    save.disabled = true;
    let r;
    try {
      r = await api("PATCH", `/ogc/collections/projects/items/${encodeURIComponent(saveForm.dataset.id)}`,
                    { geometry }, { "Content-Type": "application/merge-patch+json", "If-Match": `"${mine}"` });
    } catch {
      save.disabled = false;
      say(out, text.network, "error");
      return;
    }
    if (r.ok) {
      const version = (r.headers.get("ETag") || "").replace(/\D/g, "");
      saveForm.dataset.version = version;
      document.getElementById("lc-version").textContent = version;
      say(out, fill(text.saved, { v: version }), "ok");
      const item = document.querySelector(`#lc-list li[data-id="${CSS.escape(saveForm.dataset.id)}"]`);
      if (item) {
        item.remove();
        const count = document.getElementById("lc-count");
        count.textContent = String(Math.max(0, Number(count.textContent) - 1));
      }
      document.querySelectorAll(".lc-tools button, .lc-tools input, #lc-coords button").forEach((el) => { el.disabled = true; });
      return;
    }
    save.disabled = false;
    if (r.status === 412 || r.status === 409) {
      const current = (r.data && r.data.currentVersion) || (r.headers.get("ETag") || "").replace(/\D/g, "") || "?";
      say(out, fill(text.conflict, { v: current, mine }), "error");
      save.disabled = true;
    } else if (r.status === 403) {
      say(out, `${text.forbidden} ${reason(r.data)}`, "error");
    } else {
      say(out, `${text.failed} (${r.status}): ${reason(r.data)}`, "error");
    }
  });
  render();
}
