// The volunteers' geometry review queue (/area-riservata/revisione): the selected feature
// on the map over our tiles, and the decision posted to the API's review route
// (POST /api/review/{collection}/{id}), the one place a review is written.
import { api, fill, fitTo, makeMap, readJson, reason, say, showMarks, showTarget } from "./reserved-map.js";

const text = readJson("rv-text");
const feature = readJson("rv-feature");
const form = document.getElementById("rv-form");
const lang = document.documentElement.lang;

if (feature) {
  const worker = document.getElementById("rv-module").dataset.worker;
  const map = makeMap("rv-map", worker, lang);
  map.on("load", () => {
    showTarget(map, feature.geometry);
    const outside = feature.properties.outside;
    if (outside) showMarks(map, [outside.coordinates]);
    fitTo(map, feature.geometry);
  });
}

function commentError(message) {
  const comment = document.getElementById("rv-comment");
  const err = document.getElementById("rv-comment-error");
  if (message) {
    err.textContent = message;
    err.hidden = false;
    comment.setAttribute("aria-invalid", "true");
    comment.focus();
  } else {
    err.textContent = "";
    err.hidden = true;
    comment.removeAttribute("aria-invalid");
  }
}

/** The decided item leaves the list; the form offers the next one. */
function done(result) {
  const id = form.dataset.id;
  const item = document.querySelector(`#rv-list li[data-id="${CSS.escape(id)}"]`);
  const next = item && (item.nextElementSibling || item.previousElementSibling);
  if (item) item.remove();
  const count = document.getElementById("rv-count");
  count.textContent = String(Math.max(0, Number(count.textContent) - 1));
  document.getElementById("rv-version").textContent = String(result.version);
  form.querySelectorAll("button, textarea").forEach((el) => { el.disabled = true; });
  if (next) {
    const link = document.createElement("a");
    link.href = next.querySelector("a").href;
    link.textContent = text.next;
    link.className = "button";
    document.getElementById("rv-result").append(link);
    link.focus();
  }
}

if (form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const decision = event.submitter ? event.submitter.value : "accept";
    const comment = form.elements.comment.value.trim();
    const out = document.getElementById("rv-result");
    if (decision === "reject" && !comment) {
      commentError(text.needComment);
      out.replaceChildren();
      return;
    }
    commentError("");
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    let r;
    try {
      r = await api("POST", `/api/review/${encodeURIComponent(form.dataset.collection)}/${encodeURIComponent(form.dataset.id)}`,
                    { decision, comment: comment || null, base_version: Number(form.dataset.version) });
    } catch {
      buttons.forEach((b) => { b.disabled = false; });
      say(out, text.network, "error");
      return;
    }
    if (r.ok) {
      say(out, decision === "accept" ? text.accepted : text.rejected, "ok");
      done(r.data);
      return;
    }
    buttons.forEach((b) => { b.disabled = false; });
    if (r.status === 412) {
      say(out, fill(text.conflict, { v: r.data && r.data.currentVersion }), "error");
    } else if (r.data && (r.data.errors || []).some((e) => e.field === "comment")) {
      commentError(reason(r.data));
    } else {
      say(out, `${text.failed} (${r.status}): ${reason(r.data)}`, "error");
    }
  });
}
