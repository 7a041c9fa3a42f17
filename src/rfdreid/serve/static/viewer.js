// Fetches the server-rendered ranking for the current query and controls; no build step.
"use strict";
const $ = (id) => document.getElementById(id);
let query = document.body.dataset.query || null;
let latest = 0;  // a slower, older answer must not overwrite a newer ranking

async function refresh() {
  if (!query) return;
  const form = document.querySelector('input[name="form"]:checked');
  const params = new URLSearchParams({query, k: $("top-k").value});
  if ($("lam")) params.set("lam", $("lam").value);
  if (form) params.set("form", form.value);
  if ($("rerank").checked) params.set("rerank", "1");
  if ($("max-distance").value !== "") params.set("max_distance", $("max-distance").value);
  if ($("at-fpr")?.value) params.set("at_fpr", $("at-fpr").value);
  const mine = ++latest;
  const response = await fetch("/ranking?" + params);
  const text = await response.text();
  if (mine !== latest) return;
  showError(response.ok ? "" : text);  // a refused threshold or re-ranking says why
  $("ranking").innerHTML = response.ok ? text : "";
}

function showError(message) {
  const el = $("error");
  if (el) { el.textContent = message || ""; el.hidden = !message; }
}

$("upload")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const response = await fetch("/query", {method: "POST", body: new FormData(event.target)});
  const answer = await response.json();
  showError(answer.error);
  if (response.ok) { query = answer.query; refresh(); }
});
$("choose")?.addEventListener("change", (event) => {
  showError("");
  query = event.target.value || null;
  refresh();
});
$("lam")?.addEventListener("input", (event) => {
  $("lam-value").textContent = Number(event.target.value).toFixed(2);
  refresh();
});
document.querySelectorAll('input[name="form"]').forEach((el) => el.addEventListener("change", refresh));
$("top-k").addEventListener("change", refresh);
$("rerank").addEventListener("change", refresh);
// a typed distance and a measured one exclude each other: choosing one clears the other
$("max-distance").addEventListener("change", () => {
  if ($("at-fpr") && $("max-distance").value !== "") $("at-fpr").value = "";
  refresh();
});
$("at-fpr")?.addEventListener("change", () => {
  if ($("at-fpr").value) $("max-distance").value = "";
  refresh();
});
refresh();
