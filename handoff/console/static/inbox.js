/* The conversation list (tabs Mine / Queue / All, each its own list; filters; pages) and search.
   Rows come from /console/api/conversations, results from /console/api/search; every
   value is put on the page with textContent (matches in <mark> elements), never as markup.
   The list reloads whenever the workspace refreshes (the live feed, an action). */
"use strict";

(() => {
  const { t, api, now, el, duration, debounce, update } = Console;
  // Letters in a coloured disc: emoji fonts are not on every agent's machine.
  const ICONS = { webchat: "W", telegram: "T", whatsapp: "WA", wechat: "WX", sms: "SMS", email: "@", api: "A" };
  const STATUS = { queued: t("status.queued"), offered: t("status.offered"), assigned: t("status.assigned") };
  const FROM = {
    customer: t("from.customer"), agent: t("from.agent"), bot: t("from.bot"),
    reply: t("from.reply"), note: t("from.note"), ticket: t("from.ticket"),
  };
  const more = document.getElementById("inbox-more");
  const panels = Object.fromEntries([...document.querySelectorAll(".inbox .tab-panel")].map((ul) => [ul.id, ul]));
  const filters = document.getElementById("filters");
  const searchBox = document.getElementById("search");
  const results = document.getElementById("search-results");
  const inbox = document.getElementById("inbox");
  const closeSearch = document.getElementById("search-close");
  let tab = "mine";
  const cursors = {};
  const loading = {};
  let selected = null;

  function open(id) {
    selected = id;
    for (const node of document.querySelectorAll(".inbox .ticket")) node.classList.toggle("selected", node.dataset.id === id);
    document.dispatchEvent(new CustomEvent("console:open", { detail: id }));
  }

  // A result that is no open hand-off of this agent's: the workspace shows it read only.
  function read(id) {
    selected = null;
    document.dispatchEvent(new CustomEvent("console:read", { detail: id }));
  }

  function slaText(row) {
    const left = row.sla.due - now();
    return `${duration(left)} ${left >= 0 ? t("left") : t("overdue")}`;
  }

  function keys(item, id, go = open) {
    item.addEventListener("click", () => go(id));
    item.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); go(id); }
      if (event.key === "ArrowDown" && item.nextElementSibling) item.nextElementSibling.focus();
      if (event.key === "ArrowUp" && item.previousElementSibling) item.previousElementSibling.focus();
    });
  }

  function channelIcon(channel) {
    return el("span", { class: `channel channel-${channel}`, title: channel, "aria-hidden": "true", text: ICONS[channel] || "?" });
  }

  function row(r) {
    const who = r.customer.name || r.customer.identity || r.ticket;
    const item = el("li", { class: `ticket inbox-row status-${r.status}` + (r.conversation_id === selected ? " selected" : ""), tabIndex: 0, "data-id": r.conversation_id },
      el("div", { class: "row-head" },
        el("span", { class: `prio prio-${r.priority}`, text: r.priority }),
        channelIcon(r.channel),
        el("span", { class: "who", text: who }),
        el("span", { class: "chan-name", text: r.channel }),
        el("span", { class: "lang", text: r.language.toUpperCase() }),
        r.unread ? el("span", { class: "unread", title: `${r.unread} ${t("inbox.unread")}`, text: String(r.unread) }) : null,
      ),
      el("div", { class: "row-why" },
        el("span", { class: "state", text: STATUS[r.status] || r.status }),
        el("span", { class: "reason", text: [r.intent, ...(r.reasons || [])].filter(Boolean).join(" · ") }),
        r.agent_name ? el("span", { class: "holder", text: r.agent_name }) : null,
      ),
      el("div", { class: "preview" },
        r.preview_from ? el("span", { class: "from", text: `${FROM[r.preview_from] || r.preview_from}: ` }) : null,
        r.preview),
      // The same classes and data as the workspace's countdowns: its clock ticks these too.
      el("span", { class: "wait", "data-since": String(r.requested_at), text: `${t("waiting")} ${duration(now() - r.requested_at)}` }),
      el("span", { class: `sla sla-${r.sla.level}`, "data-due": String(r.sla.due), "data-warn": String(r.sla.warn), text: slaText(r) }),
    );
    if (r.status === "offered") item.classList.add("offered");
    item.dataset.key = r.conversation_id;
    item.dataset.sig = JSON.stringify(r);
    keys(item, r.conversation_id);
    return item;
  }

  function query(name, cursor) {
    const params = new URLSearchParams({ tab: name });
    for (const [key, value] of new FormData(filters)) if (String(value).trim()) params.set(key, String(value).trim());
    if (cursor) params.set("cursor", cursor);
    return params;
  }

  // One tab's list: its first page again, or (append) the next page below what is shown.
  async function load(name, append) {
    const list = panels[name];
    const mine = (loading[name] || 0) + 1;
    loading[name] = mine;
    const params = query(name, append ? cursors[name] : null);
    const data = await api("GET", `/console/api/conversations?${params}`, undefined, true).catch(() => null);
    if (!data || mine !== loading[name]) return; // a newer load is on its way
    const focused = document.activeElement && list.contains(document.activeElement) ? document.activeElement.dataset.id : null;
    const rows = data.rows.map(row);
    if (append) list.append(...rows);
    else if (rows.length) update(list, rows);
    else list.replaceChildren(el("li", { class: "muted", text: t("empty") }));
    if (focused) { const again = list.querySelector(`[data-id="${CSS.escape(focused)}"]`); if (again) again.focus(); }
    cursors[name] = data.next_cursor;
    if (name === tab) more.hidden = !data.next_cursor;
    for (const [key, count] of Object.entries(data.counts)) {
      const node = document.getElementById(`${key}-count`);
      if (node) node.textContent = String(count);
    }
  }

  function reload() {
    const active = [...new FormData(filters)].filter(([, v]) => String(v).trim()).length;
    const badge = document.getElementById("filter-count");
    badge.hidden = !active;
    badge.textContent = String(active);
    for (const name of Object.keys(panels)) load(name, false);
  }

  function choose(name) {
    tab = name;
    for (const button of document.querySelectorAll(".tabs .tab")) button.setAttribute("aria-selected", String(button.dataset.tab === name));
    for (const [key, list] of Object.entries(panels)) list.hidden = key !== name;
    more.hidden = !cursors[name];
  }

  // ------------------------------------------------------------------ search
  function marked(pieces) {
    return el("p", { class: "snippet" }, ...pieces.map(([text, hit]) => (hit ? el("mark", { text }) : text)));
  }

  function resultHead(view, customer) {
    return el("div", { class: "row-head" },
      view ? channelIcon(view.channel) : null,
      el("span", { class: "who", text: customer.name || customer.identity || customer.id }),
      view && view.ticket ? el("span", { class: "ticket-label", text: view.ticket }) : null,
      view && view.handoff ? el("span", { class: "state", text: STATUS[view.handoff] || view.handoff }) : null,
      view && !view.open && view.read ? el("span", { class: "muted read-label", text: `${t("conversation." + view.status)} · ${t("search.read")}` }) : null,
      view && !view.open && !view.read ? el("span", { class: "muted", text: t("search.not_open") }) : null,
    );
  }

  function result(view, customer, pieces, label) {
    const reachable = Boolean(view && (view.open || view.read));
    const item = el("li", { class: "result" + (reachable ? " openable" : "") + (reachable && !view.open ? " read-only" : ""), tabIndex: reachable ? 0 : -1 },
      resultHead(view, customer),
      label ? el("span", { class: "from", text: label }) : null,
      marked(pieces));
    if (reachable) {
      item.dataset.id = view.conversation_id;
      keys(item, view.conversation_id, view.open ? open : read);
    }
    return item;
  }

  function showResults(data) {
    const parts = [];
    if (data.customers.length) {
      parts.push(el("h3", { text: t("search.customers") }),
        el("ul", { class: "results" }, ...data.customers.map((c) => result(c.conversation, c.customer, c.snippet, ""))));
    }
    if (data.messages.length) {
      parts.push(el("h3", { text: t("search.messages") }),
        el("ul", { class: "results" }, ...data.messages.map((m) => result(m, m.customer, m.snippet, FROM[m.who] || m.who))));
    }
    if (!parts.length) parts.push(el("p", { class: "muted", text: t("search.none") }));
    results.replaceChildren(...parts);
  }

  let searching = 0;
  async function search() {
    const text = searchBox.value.trim();
    const mine = ++searching;
    const open = Boolean(text);
    results.hidden = !open;
    inbox.hidden = open;
    closeSearch.hidden = !open;
    if (!open) return;
    const data = await api("GET", `/console/api/search?${new URLSearchParams({ q: text })}`).catch(() => null);
    if (data && mine === searching) showResults(data);
  }

  function setup() {
    for (const button of document.querySelectorAll(".tabs .tab")) button.addEventListener("click", () => choose(button.dataset.tab));
    filters.addEventListener("change", reload);
    filters.addEventListener("input", debounce(reload, 300));
    filters.addEventListener("reset", () => setTimeout(reload, 0));
    filters.addEventListener("submit", (event) => { event.preventDefault(); reload(); });
    more.addEventListener("click", () => load(tab, true));
    document.getElementById("search-form").addEventListener("submit", (event) => { event.preventDefault(); search(); });
    searchBox.addEventListener("input", debounce(search, 250));
    searchBox.addEventListener("keydown", (event) => { if (event.key === "Escape") { searchBox.value = ""; search(); } });
    closeSearch.addEventListener("click", () => { searchBox.value = ""; search(); searchBox.focus(); });
    // The workspace refreshes on every feed hint and after every action: so does the list.
    document.addEventListener("console:refreshed", debounce(reload, 100));
    reload();
  }

  setup();
})();
