/* The contact panel beside the open conversation: who the customer is on every channel,
   tags, CRM fields, attributes and notes (each edit audited on the server), possible
   duplicates from verified data, and earlier conversations to read and filter. */
"use strict";

(() => {
  const { t, api, el, debounce, toast } = Console;
  const $ = (id) => document.getElementById(id);
  let customerId = null;
  let conversationId = null;
  let contact = null;
  // Forms the agent is typing in: a refresh (a live event, another tab's edit) leaves them be.
  const dirty = new Set();

  const base = () => `/console/api/customers/${encodeURIComponent(customerId)}`;

  function identityItem(row) {
    const badges = [el("span", { class: `badge badge-${row.channel}`, text: row.channel })];
    const mark = row.verified ? t("contact.verified") : row.claimed ? t("contact.claimed") : t("unverified");
    badges.push(el("span", { class: row.verified ? "badge badge-verified" : "badge badge-unverified", text: mark }));
    return el("li", { class: row.verified ? "identity verified" : "identity unverified" }, ...badges, " ", el("span", { text: row.identity }));
  }

  function tagItem(tag) {
    const remove = el("button", { type: "button", class: "link", text: "×", title: t("contact.remove"), "aria-label": `${t("contact.remove")} ${tag}` });
    remove.addEventListener("click", () => edit({ tags: contact.tags.filter((x) => x !== tag) }));
    return el("li", { class: "tag" }, el("span", { text: tag }), remove);
  }

  function crmForm(data) {
    const lang = document.documentElement.lang.startsWith("zh") ? "zh" : "en";
    const rows = data.crm.map((field) => el("label", {}, `${field.label[lang]} `, el("input", { value: field.value, maxLength: 500, "data-key": field.key })));
    const ids = data.crm_ids.length ? [el("p", { class: "muted", text: `${t("contact.crm_id")}: ${data.crm_ids.join(", ")}` })] : [];
    $("contact-crm-fields").replaceChildren(...ids, ...rows);
  }

  function attributeRows(data) {
    const list = $("contact-attributes");
    list.replaceChildren(...Object.entries(data.attributes).flatMap(([key, value]) => {
      const remove = el("button", { type: "button", class: "link", text: "×", title: t("contact.remove"), "aria-label": `${t("contact.remove")} ${key}` });
      remove.addEventListener("click", () => edit({ attributes: { [key]: null } }));
      return [el("dt", { text: key }), el("dd", {}, el("span", { text: value }), " ", remove)];
    }));
  }

  function render(data) {
    contact = data;
    $("contact-empty").hidden = true;
    $("contact").hidden = false;
    $("contact-title").textContent = data.name || data.customer_id;
    if (!dirty.has("contact-name-form")) $("contact-name").value = data.name;
    $("contact-identities").replaceChildren(...data.identities.map(identityItem));
    $("contact-tags").replaceChildren(...data.tags.map(tagItem));
    if (!dirty.has("contact-crm-form")) crmForm(data);
    attributeRows(data);
    $("contact-notes").replaceChildren(...(data.notes.length ? data.notes.map((n) =>
      el("li", { class: "note" }, el("div", { class: "meta", text: `${n.actor} · ${new Date(n.at * 1000).toLocaleString()}` }), el("div", { class: "text", text: n.text })))
      : [el("li", { class: "muted", text: t("contact.none_found") })]));
    $("contact-merge").replaceChildren(...(data.merge_suggestions.length ? data.merge_suggestions.map((s) =>
      el("li", {}, el("span", { text: s.name || s.customer_id }), " · ", el("span", { class: "muted", text: `${s.identity} (${t("contact.merge." + s.reason)})` })))
      : [el("li", { class: "muted", text: t("contact.none_found") })]));
  }

  async function conversations() {
    if (!customerId) return;
    const q = $("contact-filter").value.trim();
    const query = q ? "?q=" + encodeURIComponent(q) : "";
    const data = await api("GET", `${base()}/conversations` + query, undefined, true);
    $("contact-conversations").replaceChildren(...(data.items.length ? data.items.map((c) => {
      const current = c.id === conversationId;
      const read = el("button", { type: "button", class: "link", text: current ? t("contact.current") : t("contact.open") });
      read.disabled = current;
      read.addEventListener("click", () => openTranscript(c));
      return el("li", { class: current ? "past-item current" : "past-item", "data-id": c.id },
        ...c.channels.map((ch) => el("span", { class: `badge badge-${ch}`, text: ch })),
        el("span", { text: ` ${c.status} · ${new Date(c.created_at * 1000).toLocaleString()} · ${c.messages} ${t("contact.messages")} ` }),
        read,
        el("div", { class: "muted preview", text: c.preview }));
    }) : [el("li", { class: "muted", text: t("contact.none_found") })]));
  }

  async function openTranscript(row) {
    const data = await api("GET", `${base()}/conversations/${encodeURIComponent(row.id)}`);
    $("transcript-title").textContent = `${t("read_only")} · ${row.channel} · ${new Date(row.created_at * 1000).toLocaleString()}`;
    Transcript.render($("transcript"), data.timeline);
    $("transcript-box").hidden = false;
    $("transcript-close").focus();
  }

  async function load() {
    render(await api("GET", `${base()}/contact`, undefined, true));
    await conversations();
  }

  async function edit(change, form) {
    const data = await api("PATCH", base(), change);
    if (form) dirty.delete(form);
    render(data);
    toast(t("saved"));
  }

  document.addEventListener("conversation:open", (event) => {
    const view = event.detail;
    const next = view.profile.customer_id;
    conversationId = view.ticket.conversation_id;
    if (next !== customerId) {
      customerId = next;
      dirty.clear();
      $("contact-filter").value = "";
      $("transcript-box").hidden = true;
    }
    load().catch(() => {});
  });

  for (const form of ["contact-name-form", "contact-crm-form"]) $(form).addEventListener("input", () => dirty.add(form));
  $("contact-name-form").addEventListener("submit", (event) => { event.preventDefault(); edit({ name: $("contact-name").value }, "contact-name-form"); });
  $("contact-tag-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const tag = $("contact-tag").value.trim();
    if (!tag || !contact) return;
    edit({ tags: [...contact.tags, tag] }).then(() => { $("contact-tag").value = ""; }).catch(() => {});
  });
  $("contact-crm-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const attributes = {};
    for (const input of event.target.querySelectorAll("input[data-key]")) attributes[input.dataset.key] = input.value.trim() || null;
    edit({ attributes }, "contact-crm-form");
  });
  $("contact-attribute-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = $("contact-attribute-key").value.trim();
    if (!key) return;
    edit({ attributes: { [key]: $("contact-attribute-value").value } }).then(() => {
      $("contact-attribute-key").value = ""; $("contact-attribute-value").value = "";
    }).catch(() => {});
  });
  $("contact-note-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("contact-note").value;
    if (!text.trim() || !customerId) return;
    await api("POST", `${base()}/notes`, { text });
    $("contact-note").value = "";
    await load();
  });
  $("contact-filter").addEventListener("input", debounce(() => conversations().catch(() => {}), 250));
  $("transcript-close").addEventListener("click", () => { $("transcript-box").hidden = true; });
})();
