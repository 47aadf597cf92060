/* Working a conversation: canned responses at the cursor, "/shortcut" search in the reply
   box, typing both ways, and Resolve with a few seconds to undo.
   Drives the workspace through window.Workspace (workspace.js); words from the catalogue. */
"use strict";

(() => {
  const { t, api, el } = Console;
  const UNDO_SECONDS = 5;        // Resolve waits this long for an Undo before it is sent
                                 // (a page may set another: data-undo-seconds on #resolve)
  const TYPING_EVERY_MS = 2000;  // an "on" at most this often (the hub passes one per 4 s)
  const TYPING_IDLE_MS = 5000;   // no key for this long: the agent stopped
  const CUSTOMER_TYPING_MS = 10000; // hide "Customer is typing…" without a renewal

  const reply = document.getElementById("reply");
  const asNote = document.getElementById("as-note");
  const cannedSelect = document.getElementById("canned");
  const suggest = document.getElementById("canned-suggest");
  const customerTyping = document.getElementById("customer-typing");
  const resolveButton = document.getElementById("resolve");
  const undoBar = document.getElementById("undo-bar");
  const W = () => window.Workspace;

  function cannedList() {
    const view = W().view();
    return (view && view.canned) || [];
  }

  // ---------------------------------------------------------------- canned at the cursor
  // Puts the text where the cursor is (replacing the selection, or from..to), keeps the
  // rest of the draft, and leaves the cursor after it.
  function insertAtCursor(text, from, to) {
    const start = from === undefined ? reply.selectionStart : from;
    const end = to === undefined ? reply.selectionEnd : to;
    reply.focus();
    reply.setRangeText(text, start, end, "end");
    reply.dispatchEvent(new Event("input", { bubbles: true }));
  }

  cannedSelect.addEventListener("change", () => {
    const chosen = cannedList()[Number(cannedSelect.value)];
    cannedSelect.value = "";
    if (chosen) insertAtCursor(chosen.text);
  });

  // ---------------------------------------------------------------- "/shortcut" search
  let matches = [];
  let active = 0;
  let token = null; // { from, to } of the "/query" being typed

  function slashQuery() {
    // "/ref" right before the cursor, at the start or after a space: a search, not a path.
    const before = reply.value.slice(0, reply.selectionStart);
    const found = /(^|\s)\/([\p{L}\p{N}_-]*)$/u.exec(before);
    if (!found || reply.selectionStart !== reply.selectionEnd) return null;
    return { query: found[2].toLowerCase(), from: reply.selectionStart - found[2].length - 1, to: reply.selectionStart };
  }

  function closeSuggest() {
    suggest.hidden = true;
    suggest.replaceChildren();
    reply.removeAttribute("aria-activedescendant");
    reply.setAttribute("aria-expanded", "false");
    matches = [];
    token = null;
  }

  function showSuggest() {
    const found = slashQuery();
    if (!found) { closeSuggest(); return; }
    token = found;
    matches = cannedList().filter((c) => c.name.toLowerCase().includes(found.query) || c.title.toLowerCase().includes(found.query));
    active = Math.min(active, Math.max(matches.length - 1, 0));
    suggest.replaceChildren(...(matches.length
      ? matches.map((c, i) => {
        const item = el("li", { role: "option", id: `canned-option-${i}`, class: i === active ? "active" : "", "aria-selected": String(i === active) },
          el("span", { class: "canned-name", text: `/${c.name}` }), " ", el("span", { class: "canned-title", text: c.title }));
        // mousedown, not click: the textarea keeps its focus and its cursor.
        item.addEventListener("mousedown", (event) => { event.preventDefault(); choose(i); });
        return item;
      })
      : [el("li", { class: "muted", text: t("canned.none") })]));
    suggest.hidden = false;
    reply.setAttribute("aria-expanded", "true");
    if (matches.length) reply.setAttribute("aria-activedescendant", `canned-option-${active}`);
  }

  function choose(index) {
    const chosen = matches[index];
    const where = token;
    closeSuggest();
    if (chosen && where) insertAtCursor(chosen.text, where.from, where.to);
  }

  reply.addEventListener("input", () => { active = 0; showSuggest(); });
  reply.addEventListener("click", showSuggest);
  reply.addEventListener("blur", closeSuggest);
  // In the capture phase, so Enter picks a response instead of sending (workspace.js sends
  // on Enter in its own listener, which this one runs before).
  document.addEventListener("keydown", (event) => {
    if (event.target !== reply || suggest.hidden || Console.composing(event)) return;
    const moves = { ArrowDown: 1, ArrowUp: -1 };
    if (event.key in moves && matches.length) {
      active = (active + moves[event.key] + matches.length) % matches.length;
      showSuggest();
    } else if ((event.key === "Enter" || event.key === "Tab") && matches.length) {
      choose(active);
    } else if (event.key === "Escape") {
      closeSuggest();
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  }, true);

  // ---------------------------------------------------------------- the agent's typing
  let lastOn = 0;
  let idle = null;
  let typingIn = null; // the conversation the last "on" was for

  function mayTypeHere() {
    const view = W().view();
    return view && view.ticket && view.ticket.agent_id === Console.me && view.ticket.accepted && !asNote.checked;
  }

  function signal(conversationId, on) {
    api("POST", `/console/api/conversations/${encodeURIComponent(conversationId)}/typing`, { on }, true).catch(() => {});
  }

  function stopTyping() {
    clearTimeout(idle);
    if (typingIn) signal(typingIn, false);
    typingIn = null;
    lastOn = 0;
  }

  reply.addEventListener("input", () => {
    // A note is for the team: the customer never sees anyone typing one.
    if (!mayTypeHere() || !reply.value.trim()) { stopTyping(); return; }
    clearTimeout(idle);
    const id = W().openId();
    if (typingIn !== id || Date.now() - lastOn >= TYPING_EVERY_MS) {
      typingIn = id;
      lastOn = Date.now();
      signal(id, true);
    }
    idle = setTimeout(stopTyping, TYPING_IDLE_MS);
  });
  asNote.addEventListener("change", () => { if (asNote.checked) stopTyping(); });
  // The sent reply itself ends the indicator on the customer's side.
  document.getElementById("composer").addEventListener("submit", () => { clearTimeout(idle); typingIn = null; lastOn = 0; });

  // ---------------------------------------------------------------- the customer's typing
  let customerTimer = null;
  function showCustomerTyping(on) {
    customerTyping.hidden = !on;
    clearTimeout(customerTimer);
    if (on) customerTimer = setTimeout(() => { customerTyping.hidden = true; }, CUSTOMER_TYPING_MS);
  }
  document.addEventListener("console:live", (event) => {
    const message = event.detail;
    if (message.conversation_id !== W().openId()) return;
    if (message.type === "typing" && message.side === "customer") showCustomerTyping(message.on !== false);
    if (message.type === "conversation.event" && message.event === "message.in") showCustomerTyping(false);
  });

  let shownId = null;
  document.addEventListener("console:opened", (event) => {
    const id = event.detail.ticket.conversation_id;
    if (id === shownId) return; // the same one read again after a live update: carry on
    shownId = id;
    if (typingIn && typingIn !== id) stopTyping();
    if (pending && pending.conversationId !== id) commitResolve();
    showCustomerTyping(false);
    closeSuggest();
  });

  // ---------------------------------------------------------------- Resolve, with Undo
  // Resolving tells the customer and asks them for a rating, which cannot be taken back; so
  // the request waits UNDO_SECONDS, and Undo simply never sends it.
  let pending = null; // { conversationId, timer, tick, left }
  const undoText = document.getElementById("undo-text");

  function showPending() {
    undoText.textContent = t("resolve.pending").replace("{n}", String(pending.left));
  }

  function startResolve() {
    const conversationId = W().openId();
    if (!conversationId || pending || resolveButton.disabled) return;
    const seconds = Number(resolveButton.dataset.undoSeconds) || UNDO_SECONDS;
    pending = { conversationId, left: seconds };
    pending.timer = setTimeout(commitResolve, seconds * 1000);
    pending.tick = setInterval(() => { if (pending && pending.left > 1) { pending.left -= 1; showPending(); } }, 1000);
    showPending();
    undoBar.hidden = false;
    undoBar.dataset.conversationId = conversationId;
    resolveButton.disabled = true;
    document.getElementById("undo").focus();
  }

  function clearPending() {
    clearTimeout(pending.timer);
    clearInterval(pending.tick);
    undoBar.hidden = true;
    delete undoBar.dataset.conversationId;
    const chosen = pending;
    pending = null;
    return chosen;
  }

  function undoResolve() {
    if (!pending) return;
    clearPending();
    resolveButton.disabled = false;
    reply.focus();
  }

  async function commitResolve() {
    if (!pending) return;
    const { conversationId } = clearPending();
    if (W().openId() === conversationId) {
      await W().act("resolve").catch(() => { resolveButton.disabled = false; });
    } else {
      await api("POST", `/console/api/conversations/${encodeURIComponent(conversationId)}/resolve`, {}).catch(() => {});
      W().refresh();
    }
  }

  resolveButton.addEventListener("click", startResolve);
  document.getElementById("undo").addEventListener("click", undoResolve);
  // Leaving the page during the countdown still resolves: the agent asked for it.
  window.addEventListener("pagehide", () => {
    if (!pending) return;
    const { conversationId } = clearPending();
    const csrf = document.querySelector('meta[name="csrf-token"]').content;
    fetch(`/console/api/conversations/${encodeURIComponent(conversationId)}/resolve`, {
      method: "POST", keepalive: true, credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Content-Type": "application/json" }, body: "{}",
    }).catch(() => {});
  });

  window.Compose = { startResolve, undoResolve, insertAtCursor };
})();
