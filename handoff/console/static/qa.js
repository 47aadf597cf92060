// Quality inspection: send the reviewer's scores; the page shows the weighted total.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("qa-form");
  if (!form) return;
  const conversation = document.querySelector("main.qa-review").dataset.conversation;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const scores = {};
    for (const select of form.querySelectorAll("select")) scores[select.name] = Number(select.value);
    const response = await fetch(`/console/api/qa/${encodeURIComponent(conversation)}/review`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ scores, comment: form.elements.comment.value }),
    });
    const body = await response.json().catch(() => ({}));
    const error = document.getElementById("qa-error");
    if (!response.ok) {
      error.textContent = (body.error && body.error.message) || String(response.status);
      error.hidden = false;
      return;
    }
    error.hidden = true;
    document.getElementById("qa-total").textContent = `${Number(body.review.total).toFixed(1)}%`;
    document.getElementById("qa-result").hidden = false;
  });
});
