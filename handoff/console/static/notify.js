/* Notifications: a new offer, a new message in one of my conversations, an SLA about to
   breach, a mention in a note. Each one is an in-page notice (click to open), a short tone,
   a browser notification when the agent allowed them, and one more in the tab title's
   unread count, "(3) Frontdesk console", until the agent comes back to the page (a key, a
   click, the tab shown again); the notices stay until then, and a few seconds more.
   Reads the live feed through the "console:live" events workspace.js dispatches. */
"use strict";

(() => {
  const { t, el, beep, me } = Console;
  const NOTICE_MS = 8000;
  const MAX_NOTICES = 4;
  const baseTitle = document.title;
  const notices = document.getElementById("notices");
  const enable = document.getElementById("notify-enable");
  let unread = 0;

  function showTitle() {
    document.title = unread ? `(${unread}) ${baseTitle}` : baseTitle;
  }

  // The agent is back: the count goes, and the notices leave a little later. Until then
  // they stay, however long the agent was away.
  function seen() {
    for (const item of notices.children) {
      if (item.dataset.leaving) continue;
      item.dataset.leaving = "1";
      setTimeout(() => item.remove(), NOTICE_MS);
    }
    if (!unread) return;
    unread = 0;
    showTitle();
  }

  function ticketOf(conversationId, snapshot) {
    const lists = snapshot ? [snapshot.mine, snapshot.queue, snapshot.assigned || []] : [];
    for (const list of lists) for (const ticket of list) if (ticket.conversation_id === conversationId) return ticket;
    return null;
  }

  function describe(ticket) {
    return ticket ? [ticket.ticket, ticket.priority, ticket.channel].filter(Boolean).join(" · ") : "";
  }

  function notify(kind, conversationId, headline) {
    const ticket = ticketOf(conversationId, window.Workspace && window.Workspace.snapshot());
    const detail = describe(ticket);
    const item = el("li", { class: `notice notice-${kind}`, tabIndex: 0, "data-kind": kind, "data-id": conversationId },
      el("strong", { text: headline }), detail ? el("span", { class: "muted", text: detail }) : null);
    const openIt = () => { item.remove(); if (window.Workspace) window.Workspace.open(conversationId).catch(() => {}); };
    item.addEventListener("click", openIt);
    item.addEventListener("keydown", (event) => { if (event.key === "Enter") openIt(); });
    notices.prepend(item);
    while (notices.children.length > MAX_NOTICES) notices.lastElementChild.remove();
    unread += 1;
    showTitle();
    beep();
    if ("Notification" in window && Notification.permission === "granted") {
      try {
        const shown = new Notification(headline, { body: detail, tag: `${kind}:${conversationId}`, lang: document.documentElement.lang });
        shown.onclick = () => { window.focus(); openIt(); };
      } catch (_) { /* some browsers only show them from a service worker */ }
    }
  }

  function isMine(conversationId) {
    const snapshot = window.Workspace && window.Workspace.snapshot();
    return Boolean(snapshot && snapshot.mine.some((x) => x.conversation_id === conversationId));
  }

  document.addEventListener("console:live", (event) => {
    const m = event.detail;
    if (m.type === "queue.changed" && m.change === "offered" && m.assigned_to === me) {
      notify("offer", m.conversation_id, t("notify.offer"));
    } else if (m.type === "conversation.event" && m.event === "message.in" && isMine(m.conversation_id)) {
      notify("message", m.conversation_id, t("notify.message"));
    } else if (m.type === "conversation.event" && (m.mentions || []).includes(me)) {
      notify("mention", m.conversation_id, t("notify.mention").replace("{who}", m.by || ""));
    } else if (m.type === "alert" && m.alert === "sla.warning" && (m.agent_id === me || !m.agent_id)) {
      notify("sla", m.conversation_id, t("notify.sla"));
    }
  });

  // The agent is back on the page: what was new has been seen.
  document.addEventListener("visibilitychange", () => { if (!document.hidden) seen(); });
  document.addEventListener("pointerdown", seen, true);
  document.addEventListener("keydown", seen, true);

  // Browsers ask for permission only after a click; the button shows while undecided.
  function showEnable() {
    enable.hidden = !("Notification" in window) || Notification.permission !== "default";
  }
  enable.addEventListener("click", async () => {
    try { await Notification.requestPermission(); } catch (_) { /* refused */ }
    showEnable();
  });
  showEnable();
})();
