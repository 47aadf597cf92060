/* Files in the console: the agent attaches files to a reply (uploaded when it is sent), and
   a message's files show in the transcript (images scaled down by CSS, others as download
   links). Names are put on the page with textContent; links only ever point at the
   console's own download route. */
"use strict";

const ConsoleFiles = (() => {
  const { t, el, toast } = Console;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const zh = () => document.documentElement.lang.startsWith("zh");
  let chosen = [];  // File objects waiting for the next reply
  let chips = null;

  function size(bytes) {
    if (!bytes) return "";
    return bytes >= 1048576
      ? (bytes / 1048576).toFixed(1) + " " + t("unit.mb")
      : Math.max(1, Math.round(bytes / 1024)) + " " + t("unit.kb");
  }

  function renderChosen() {
    chips.replaceChildren(...chosen.map((file, index) => {
      const remove = el("button", { type: "button", class: "file-remove", "aria-label": `${t("attach.remove")} ${file.name}`, text: "×" });
      remove.addEventListener("click", () => { chosen.splice(index, 1); renderChosen(); });
      return el("li", { class: "file-chip" }, el("span", { text: `${file.name} (${size(file.size)})` }), remove);
    }));
    chips.hidden = chosen.length === 0;
  }

  function setup() {
    const composer = document.getElementById("composer");
    const tools = composer && composer.querySelector(".composer-tools");
    if (!tools) return;
    const picker = el("input", { type: "file", id: "attach-file", multiple: true, hidden: true });
    const button = el("button", { type: "button", id: "attach", class: "attach", text: t("attach") });
    chips = el("ul", { class: "file-chips", id: "attach-chosen", hidden: true });
    button.addEventListener("click", () => picker.click());
    picker.addEventListener("change", () => {
      chosen = chosen.concat(Array.from(picker.files || []));
      picker.value = "";
      renderChosen();
    });
    tools.append(button, picker);
    composer.insertBefore(chips, composer.querySelector("textarea"));
  }

  // Upload what was chosen into the conversation; the ids for the reply. A refusal (too
  // large, a type not accepted …) is told in the console's language and stops the reply.
  async function upload(conversationId) {
    const ids = [];
    for (const file of chosen) {
      const body = new FormData();
      body.append("file", file, file.name);
      const response = await fetch(`/console/api/conversations/${encodeURIComponent(conversationId)}/attachments`, {
        method: "POST", body, headers: { "X-CSRF-Token": csrf }, credentials: "same-origin",
      });
      const data = await response.json().catch(() => ({}));
      if (response.status !== 201) {
        const error = data.error || {};
        const reason = (zh() && error.message_zh) || error.message || response.statusText;
        toast(`${t("attach.failed")} ${file.name}: ${reason}`);
        throw new Error(reason);
      }
      ids.push(data.attachment.id);
    }
    chosen = [];
    renderChosen();
    return ids;
  }

  // A file's icon: its type's short name in a badge (no emoji: not every agent has the font).
  function icon(file) {
    const type = (file.mime_type || "").split("/").pop().replace("plain", "txt").toUpperCase().slice(0, 4);
    return el("span", { class: `file-icon file-icon-${file.kind || "document"}`, "aria-hidden": "true", text: type || "?" });
  }

  function render(files) {
    const box = el("div", { class: "files" });
    for (const file of files || []) {
      if (file.url && file.kind === "image") {
        // The thumbnail made when the image was stored, linking to the original; without
        // one (too large to decode safely), the file's icon and a link.
        const image = el("img", { class: "thumb", src: file.thumbnail_url || file.url, alt: file.name, loading: "lazy" });
        const link = el("a", { class: "file-image", href: file.url, target: "_blank", rel: "noopener" }, image);
        image.addEventListener("error", () => link.replaceChildren(icon(file), el("span", { text: ` ${file.name} ${size(file.size)}`.trimEnd() })));
        box.append(link);
      } else if (file.url) {
        box.append(el("a", { class: "file-link", href: file.url, download: file.name }, icon(file), el("span", { text: ` ${file.name} ${size(file.size)}`.trimEnd() })));
      } else {
        box.append(el("span", { class: "file-link", text: file.name || file.kind }));
      }
    }
    return box;
  }

  setup();
  return { pending: () => chosen.length, upload, render };
})();
