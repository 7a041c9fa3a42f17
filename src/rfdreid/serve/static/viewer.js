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
  const mine = ++latest;
  const response = await fetch("/ranking?" + params);
  const html = await response.text();
  if (mine === latest) $("ranking").innerHTML = html;
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
refresh();
