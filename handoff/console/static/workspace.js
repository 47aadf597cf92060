/* The agent workspace: my conversations and the queue (live), one conversation open. */
"use strict";

(() => {
  const { t, api, now, el, duration, live, debounce, setupHeader, me } = Console;
  let snapshot = null;
  let openId = null;
  let openView = null;
  let readId = null; // a conversation shown read only (no open hand-off of this agent's)

  async function refresh() {
    snapshot = await api("GET", "/console/api/snapshot");
    // The conversation list (inbox.js) redraws its rows from the server on this.
    document.dispatchEvent(new CustomEvent("console:refreshed"));
    const agent = snapshot.me.agent;
    if (agent) document.getElementById("presence").value = agent.presence;
    if (openId && !snapshot.mine.concat(snapshot.queue).some((x) => x.conversation_id === openId)) {
      // Closed or taken by someone else: keep what is shown, but no more actions.
      document.getElementById("open").classList.add("closed");
    }
  }

  function tick() {
    // Countdowns move every second without a server round trip.
    for (const node of document.querySelectorAll(".ticket .sla")) {
      const due = Number(node.dataset.due), warn = Number(node.dataset.warn), at = now();
      node.className = `sla sla-${at >= due ? "red" : at >= warn ? "amber" : "ok"}`;
      const left = due - at;
      node.textContent = left >= 0 ? `${duration(left)} ${t("left")}` : `${duration(left)} ${t("overdue")}`;
    }
    for (const node of document.querySelectorAll(".ticket .wait")) {
      node.textContent = `${t("waiting")} ${duration(now() - Number(node.dataset.since))}`;
    }
  }

  // Slots with their human labels, in the console's language ("Order number: 20261001").
  function details(what) {
    const zh = document.documentElement.lang.startsWith("zh");
    return (what.details || []).map((d) => `${(zh ? d.label.zh : d.label.en) || d.slot}${zh ? "：" : ": "}${d.value}`).join(zh ? "；" : "; ");
  }

  function renderSummary(view) {
    const s = view.summary;
    const box = document.getElementById("summary");
    const rows = [
      [t("who"), [s.who.name, (s.who.channels || []).join(", "), (s.who.tags || []).join(", "), s.who.vip ? "VIP" : ""].filter(Boolean).join(" · ")],
      [t("what"), [s.what.intent, (s.what.reasons || []).join(", "), details(s.what)].filter(Boolean).join(" · ")],
      [t("feeling"), s.feeling ? `${s.feeling.label || ""} ${s.feeling.trend_label || ""}`.trim() : ""],
    ];
    const list = el("dl", {});
    for (const [label, value] of rows) list.append(el("dt", { text: label }), el("dd", { text: value || "—" }));
    const keys = el("ul", { class: "key-sentences" }, ...(s.key_sentences || []).map((k) => el("li", { text: k })));
    box.replaceChildren(el("h3", { text: t("summary") }), list, el("h4", { text: t("key") }), keys);
  }

  function renderTimeline(view) {
    const list = document.getElementById("timeline");
    list.replaceChildren(...view.timeline.map((item) => {
      const when = new Date(item.at * 1000).toLocaleTimeString();
      const head = el("div", { class: "meta" }, el("span", { text: when }));
      if (item.who === "customer") head.append(el("span", { class: `badge badge-${item.channel}`, text: item.channel }));
      if (item.unverified) head.append(el("span", { class: "badge badge-unverified", text: t("unverified") }));
      if (item.agent) head.append(el("span", { class: "badge", text: item.agent }));
      const body = el("div", { class: "text", text: item.text || "" });
      const node = el("li", { class: `item item-${item.who}` }, head, body);
      if (item.buttons && item.buttons.length) node.append(el("div", { class: "buttons", text: item.buttons.join(" | ") }));
      if (item.attachments && item.attachments.length) node.append(ConsoleFiles.render(item.attachments));
      return node;
    }));
    list.scrollTop = list.scrollHeight;
  }

  function renderCanned(view) {
    const select = document.getElementById("canned");
    select.replaceChildren(el("option", { value: "", text: `${t("canned")}…` }), ...view.canned.map((c, i) => el("option", { value: String(i), text: c.title })));
  }

  // A search result that is no open hand-off (closed, only ever with the bot, or held by
  // someone else) opens here to read: the transcript and the contact panel, no actions.
  async function read(id, quiet) {
    const data = await api("GET", `/console/api/transcripts/${encodeURIComponent(id)}`, undefined, quiet);
    openId = null;
    openView = null;
    readId = id;
    for (const node of document.querySelectorAll(".ticket")) node.classList.remove("selected");
    document.getElementById("placeholder").hidden = true;
    const box = document.getElementById("open");
    box.hidden = false;
    box.classList.remove("closed");
    box.classList.add("read-only");
    const c = data.conversation;
    const status = t("conversation." + c.status);
    document.getElementById("conv-title").textContent = `${t("read_only")} · ${c.channel} · ${status}`;
    const facts = [[t("filter.status"), status], [t("channel"), c.channel], [t("created"), new Date(c.created_at * 1000).toLocaleString()]];
    for (const h of data.handoffs) facts.push([t("ticket"), [h.ticket, h.priority, h.reason].filter(Boolean).join(" · ")]);
    const list = el("dl", {});
    for (const [label, value] of facts) list.append(el("dt", { text: label }), el("dd", { text: value }));
    document.getElementById("summary").replaceChildren(el("p", { class: "muted read-hint", text: t("read.hint") }), list);
    renderTimeline(data);
    // The contact panel and the channel's window badge follow it as they follow an open one.
    const view = { ticket: { conversation_id: c.id, channel: c.channel }, profile: { customer_id: c.customer_id }, timeline: data.timeline };
    document.dispatchEvent(new CustomEvent("conversation:open", { detail: view }));
  }

  async function open(id, quiet) {
    openId = id;
    readId = null;
    for (const node of document.querySelectorAll(".ticket")) node.classList.toggle("selected", node.dataset.id === id);
    openView = await api("GET", `/console/api/conversations/${encodeURIComponent(id)}`, undefined, quiet);
    document.getElementById("placeholder").hidden = true;
    const box = document.getElementById("open");
    box.hidden = false;
    box.classList.remove("closed", "read-only");
    const ticket = openView.ticket;
    document.getElementById("conv-title").textContent = `${ticket.priority} · ${ticket.channel} · ${ticket.skill || ""}`;
    const mine = ticket.agent_id === me;
    const accept = document.getElementById("accept");
    accept.hidden = mine && ticket.accepted;
    // A waiting conversation can be taken by any online agent, at any hour.
    accept.textContent = ticket.agent_id ? t("accept") : t("take");
    for (const id of ["transfer", "resolve", "handback"]) document.getElementById(id).disabled = !(mine && ticket.accepted);
    renderSummary(openView);
    renderTimeline(openView);
    // The contact panel (contact.js) follows the open conversation.
    document.dispatchEvent(new CustomEvent("conversation:open", { detail: openView }));
    renderCanned(openView);
    document.dispatchEvent(new CustomEvent("console:opened", { detail: openView }));
  }

  async function act(verb, body) {
    if (!openId) return;
    await api("POST", `/console/api/conversations/${encodeURIComponent(openId)}/${verb}`, body || {});
    await refresh();
    if (["resolve", "handback", "transfer"].includes(verb)) {
      document.getElementById("open").classList.add("closed");
      try { await open(openId, true); } catch (_) { /* no longer ours to show */ }
    } else {
      await open(openId);
    }
  }

  function setup() {
    setupHeader(() => refresh());
    document.getElementById("accept").addEventListener("click", () => act("accept"));
    document.getElementById("handback").addEventListener("click", () => act("handback"));
    const transferForm = document.getElementById("transfer-form");
    document.getElementById("transfer").addEventListener("click", () => {
      transferForm.hidden = !transferForm.hidden;
      if (!transferForm.hidden) document.getElementById("transfer-to").focus();
    });
    transferForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const target = document.getElementById("transfer-to").value.trim();
      if (!target) return;
      // "skill:billing" sends it back to the queue for a skill; anything else names an agent.
      const body = target.startsWith("skill:") ? { to_skill: target.slice(6) } : { to_agent: target };
      transferForm.hidden = true;
      await act("transfer", body);
    });
    const reply = document.getElementById("reply");
    const asNote = document.getElementById("as-note");
    asNote.addEventListener("change", () => {
      reply.placeholder = asNote.checked ? t("note.placeholder") : t("reply.placeholder");
      reply.classList.toggle("note-mode", asNote.checked);
    });
    async function send() {
      const text = reply.value;
      // Files go with replies only (attachments.js); a note stays text.
      const files = asNote.checked ? 0 : ConsoleFiles.pending();
      if (!text.trim() && !files) return;
      const attachments = files ? await ConsoleFiles.upload(openId) : [];
      await act(asNote.checked ? "note" : "reply", attachments.length ? { text, attachments } : { text });
      reply.value = "";
      // "Internal note" is for one message: the next one goes to the customer again.
      asNote.checked = false;
      asNote.dispatchEvent(new Event("change"));
      reply.focus();
    }
    reply.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !Console.composing(event)) { event.preventDefault(); send(); }
    });
    document.getElementById("composer").addEventListener("submit", (event) => { event.preventDefault(); send(); });
    const later = debounce(async (conversationId) => {
      await refresh();
      if (openId && conversationId === openId) await open(openId, true).catch(() => {});
      if (readId && conversationId === readId) await read(readId, true).catch(() => {});
    }, 150);
    live((message) => {
      // notify.js and compose.js read the feed too (offers, mentions, the customer typing).
      document.dispatchEvent(new CustomEvent("console:live", { detail: message }));
      if (message.type !== "typing") later(message.conversation_id || "");
    });
    // What the workspace's other scripts (compose, notify, shortcuts) may drive.
    window.Workspace = { open, read, act, refresh, openId: () => openId, view: () => openView, snapshot: () => snapshot };
    // The conversation list and search results open a conversation here.
    document.addEventListener("console:open", (event) => open(event.detail));
    document.addEventListener("console:read", (event) => read(event.detail));
    setInterval(tick, 1000);
    refresh();
  }

  setup();
})();
