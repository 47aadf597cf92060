// The unanswered-questions report: one click copies a group's YAML stub.
"use strict";
document.addEventListener("click", async (event) => {
  const button = event.target.closest(".copy-yaml");
  if (!button) return;
  const section = button.closest(".report-group");
  const text = section.querySelector("pre.yaml").textContent;
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // No clipboard permission (an http page, an old browser): select the text instead.
    const range = document.createRange();
    range.selectNodeContents(section.querySelector("pre.yaml"));
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  section.querySelector(".copied").hidden = false;
});
