/* Frontdesk web chat widget. Embed with one tag:
 *   <script src="https://YOUR-HUB/webchat/widget.js" data-title="Help" data-color="#0a6cbd"
 *           data-greeting="Hi! How can we help?" data-greeting-zh="您好！有什么可以帮您？"
 *           data-lang="en" defer></script>
 * Plain JavaScript, no build step, nothing loaded from elsewhere. Every text from a customer,
 * the bot or an agent is put on the page with textContent, never parsed as HTML.
 * Protocol: docs/webchat-protocol.md.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.FrontdeskWebchat) return;
  var base = new URL(script.src, location.href);
  var origin = base.origin;
  var data = script.dataset;
  var STRINGS = {
    en: {
      open: "Open chat", close: "Close chat", title: "Chat with us", send: "Send",
      placeholder: "Type a message…", greeting: "Hi! How can we help you today?",
      reconnecting: "Reconnecting…", offline: "You are offline; messages will be sent later.",
      queued: "waiting to send", sent: "sent", typing: "typing…", unread: "unread messages",
      waiting: "Waiting for an agent", position: "you are number {n} in line",
      wait: "expected wait about {m} min", agent: "You are chatting with {name}",
      agentAnon: "You are chatting with an agent", resolved: "This conversation is resolved",
      offered: "an agent is about to join",
      slow: "You are sending messages quickly; we will send the next one in a moment.",
      busy: "Too many chats are open from your network; we will connect you in a moment.",
      log: "Conversation", you: "You", them: "Support", help: "Help centre"
    },
    zh: {
      open: "打开聊天", close: "关闭聊天", title: "在线客服", send: "发送",
      placeholder: "请输入消息…", greeting: "您好！有什么可以帮您？",
      reconnecting: "正在重新连接…", offline: "您已离线，消息将在恢复连接后发送。",
      queued: "等待发送", sent: "已发送", typing: "正在输入…", unread: "条未读消息",
      waiting: "正在等待人工客服", position: "您前面还有 {n} 位", wait: "预计等待约 {m} 分钟",
      agent: "客服 {name} 正在为您服务", agentAnon: "人工客服正在为您服务",
      offered: "客服即将接入",
      resolved: "本次会话已解决", slow: "您发送得太快了，稍后将自动发送下一条。",
      busy: "您所在网络打开的聊天过多，稍后将自动为您连接。",
      log: "会话", you: "我", them: "客服", help: "帮助中心"
    }
  };
  var KEY = "frontdesk.webchat." + origin + ".";
  var store = {
    get: function (k, d) { try { var v = localStorage.getItem(KEY + k); return v === null ? d : JSON.parse(v); } catch (e) { return d; } },
    set: function (k, v) { try { localStorage.setItem(KEY + k, JSON.stringify(v)); } catch (e) { /* private mode */ } }
  };
  // The widget's own words follow the conversation's language once it is known (a Chinese
  // visitor on an English page), else the page's (data-lang, then <html lang>).
  function langOf(code) { return String(code || "").slice(0, 2).toLowerCase() === "zh" ? "zh" : "en"; }
  var lang = langOf(store.get("lang", "") || data.lang || document.documentElement.lang || "en");
  var t = STRINGS[lang];
  // The greeting in the visitor's language: the page's own for that language
  // (data-greeting-en / data-greeting-zh), else its single data-greeting (as the page wrote
  // it, in whatever language), else the widget's built-in one.
  function greetingFor(code) {
    return data[code === "zh" ? "greetingZh" : "greetingEn"] || data.greeting || STRINGS[code].greeting;
  }
  var cfg = {
    title: data.title || t.title,
    color: /^#[0-9a-fA-F]{3,8}$/.test(data.color || "") ? data.color : "#0a5cad",
    transport: data.transport === "poll" ? "poll" : "auto"
  };

  // ------------------------------------------------------------------ DOM (textContent only)
  function el(tag, cls, attrs) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    for (var k in attrs || {}) node.setAttribute(k, attrs[k]);
    return node;
  }
  var css = el("link", "", { rel: "stylesheet", href: origin + "/webchat/widget.css" });
  document.head.appendChild(css);
  var root = el("div", "fdw", { "data-frontdesk-webchat": "" });
  root.style.setProperty("--fdw-accent", cfg.color);
  root.setAttribute("lang", lang === "zh" ? "zh-CN" : "en");
  var launcher = el("button", "fdw-launcher", { type: "button", "aria-label": t.open, "aria-expanded": "false", "aria-controls": "fdw-panel" });
  var SVG = "http://www.w3.org/2000/svg";
  var icon = document.createElementNS(SVG, "svg");
  icon.setAttribute("viewBox", "0 0 24 24");
  icon.setAttribute("aria-hidden", "true");
  icon.setAttribute("class", "fdw-launcher-icon");
  var path = document.createElementNS(SVG, "path");
  path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
  path.setAttribute("fill", "currentColor");
  icon.appendChild(path);
  launcher.appendChild(icon);
  var badge = el("span", "fdw-badge", { hidden: "" });
  launcher.appendChild(badge);
  var panel = el("section", "fdw-panel", { id: "fdw-panel", role: "dialog", "aria-modal": "false", "aria-labelledby": "fdw-title", hidden: "" });
  var header = el("header", "fdw-header");
  var title = el("h2", "fdw-title", { id: "fdw-title" });
  title.textContent = cfg.title;
  var closeBtn = el("button", "fdw-close", { type: "button", "aria-label": t.close });
  closeBtn.textContent = "×";
  header.appendChild(title);
  // The help centre (the knowledge base's articles at /help), unless the page says data-help="off".
  var helpLink = null;
  if (script.getAttribute("data-help") !== "off") {
    helpLink = el("a", "fdw-help", { target: "_blank", rel: "noopener" });
    header.appendChild(helpLink);
  }
  function showHelpLink() {
    if (!helpLink) return;
    helpLink.textContent = t.help;
    helpLink.setAttribute("href", origin + "/help?lang=" + lang);
  }
  showHelpLink();
  header.appendChild(closeBtn);
  var conn = el("div", "fdw-conn", { role: "status", hidden: "" });
  var ticket = el("div", "fdw-ticket", { role: "status", "aria-live": "polite", hidden: "" });
  var logEl = el("ol", "fdw-log", { role: "log", "aria-live": "polite", "aria-label": t.log, tabindex: "0" });
  var typingEl = el("div", "fdw-typing", { "aria-live": "polite", hidden: "" });
  typingEl.textContent = t.typing;
  var replies = el("div", "fdw-replies", { role: "group" });
  var form = el("form", "fdw-form");
  var input = el("textarea", "fdw-input", { rows: "1", "aria-label": t.placeholder, placeholder: t.placeholder, maxlength: "4000" });
  var sendBtn = el("button", "fdw-send", { type: "submit" });
  sendBtn.textContent = t.send;
  form.appendChild(input);
  form.appendChild(sendBtn);
  var files;  // attachments: the block at the end of this file
  [header, conn, ticket, logEl, typingEl, replies, form].forEach(function (n) { panel.appendChild(n); });
  root.appendChild(panel);
  root.appendChild(launcher);
  (document.body || document.documentElement).appendChild(root);

  // ------------------------------------------------------------------ state
  var token = store.get("token", "");
  var outbox = store.get("outbox", []);    // messages not yet acknowledged by the server
  var conversationId = null;                // the cursor: what we last saw, in memory only:
  var lastSeq = 0;                          // a reload replays the whole conversation
  var seen = {};                            // rendered message ids (ours and the server's)
  var pendingEls = {};                      // client id → bubble waiting for its ack
  var unread = 0, isOpen = false, online = false, inFlight = null, typingTimer = null, greet = null;

  function fmtTime(at) {
    var d = at ? new Date(at * 1000) : new Date();
    return d.toLocaleTimeString(lang === "zh" ? "zh-CN" : "en-GB", { hour: "2-digit", minute: "2-digit" });
  }
  function bubble(direction, text, at, note) {
    var li = el("li", "fdw-msg fdw-" + direction);
    var who = el("span", "fdw-sr");
    who.textContent = (direction === "in" ? t.you : t.them) + ": ";
    var body = el("p", "fdw-text");
    body.textContent = text;
    var meta = el("span", "fdw-meta");
    var time = el("time");
    time.textContent = fmtTime(at);
    if (at) time.setAttribute("datetime", new Date(at * 1000).toISOString());
    meta.appendChild(time);
    var state = el("span", "fdw-state");
    state.textContent = note || "";
    meta.appendChild(state);
    li.appendChild(who);
    li.appendChild(body);
    li.appendChild(meta);
    logEl.appendChild(li);
    if (direction === "in" || pinned) toBottom();
    if (direction === "in") noteLanguage(text);
    return li;
  }
  // The log stays at its newest message while the reader is there, whatever changes its
  // height: quick replies or a rating question appearing, the banner, the panel opening.
  var pinned = true;
  function toBottom() { logEl.scrollTop = logEl.scrollHeight; pinned = true; }
  logEl.addEventListener("scroll", function () {
    pinned = logEl.scrollHeight - logEl.scrollTop - logEl.clientHeight < 24;
  });
  if (window.ResizeObserver) new ResizeObserver(function () { if (pinned) toBottom(); }).observe(logEl);
  function noteLanguage(text) {
    var words = String(text).match(/[A-Za-z]{2,}/g) || [];
    var seen = /[\u3400-\u9fff]/.test(text) ? "zh" : words.length >= 2 ? "en" : "";
    if (seen && seen !== lang) setLanguage(seen);
  }
  function setLanguage(code) {
    lang = code; t = STRINGS[code]; store.set("lang", code);
    closeBtn.setAttribute("aria-label", t.close);
    showHelpLink();
    logEl.setAttribute("aria-label", t.log);
    typingEl.textContent = t.typing;
    input.setAttribute("aria-label", t.placeholder);
    input.setAttribute("placeholder", t.placeholder);
    sendBtn.textContent = t.send;
    if (!data.title) title.textContent = t.title;
    if (greet) greet.firstChild.textContent = greetingFor(code);
    root.setAttribute("lang", code === "zh" ? "zh-CN" : "en");
    setBadge();
    if (lastStatus) showStatus(lastStatus);
    if (files) files.relabel();
  }
  function showButtons(buttons) {
    var stay = pinned;
    while (replies.firstChild) replies.removeChild(replies.firstChild);
    (buttons || []).forEach(function (b) {
      var btn = el("button", "fdw-reply", { type: "button" });
      btn.textContent = b.title;
      btn.addEventListener("click", function () { send(b.title, b.payload); });
      replies.appendChild(btn);
    });
    if (stay) toBottom();
  }
  function setTyping(on) {
    typingEl.hidden = !on;
    clearTimeout(typingTimer);
    if (on) typingTimer = setTimeout(function () { typingEl.hidden = true; }, 15000);
  }
  function setBadge() {
    badge.hidden = unread === 0;
    badge.textContent = unread > 9 ? "9+" : String(unread);
    launcher.setAttribute("aria-label", unread ? t.open + " (" + unread + " " + t.unread + ")" : t.open);
  }
  function setConn(text) { conn.hidden = !text; conn.textContent = text || ""; }
  function fill(s, k, v) { return s.replace("{" + k + "}", String(v)); }
  var lastStatus = null;
  function showStatus(f) {
    var s = f.status, parts;
    if (f.event === "handoff.assigned" && !s) s = "assigned";
    // The conversation record says "assigned" as soon as an agent is offered it; only the
    // hand-off's own events (offered → assigned with the agent's name) tell the customer.
    if (f.event === "status.changed" && s === "assigned") return;
    if (!s) { if (!f.position && !f.expected_wait) return; s = "queued"; }
    if (s === "queued") {
      parts = [t.waiting];
      if (f.position) parts.push(fill(t.position, "n", f.position));
      if (f.expected_wait) parts.push(fill(t.wait, "m", Math.max(1, Math.round(f.expected_wait / 60))));
      ticket.textContent = parts.join(" — ");
    } else if (s === "offered") {
      ticket.textContent = t.waiting + " — " + t.offered;
    } else if (s === "assigned") {
      ticket.textContent = f.agent ? fill(t.agent, "name", f.agent) : t.agentAnon;
    } else if (s === "resolved") {
      ticket.textContent = t.resolved;
    } else {
      ticket.textContent = "";
    }
    lastStatus = f;
    ticket.setAttribute("data-status", s);
    ticket.hidden = !ticket.textContent;
  }

  // ------------------------------------------------------------------ frames from the server
  function handle(f) {
    // Several frames in one message (asked for with `batch` in hello): each in its order.
    if (f.type === "frames") { (f.frames || []).forEach(handle); return; }
    if (f.conversation_id && f.seq && f.type !== "ack" && f.type !== "read") {
      if (f.conversation_id !== conversationId) { conversationId = f.conversation_id; lastSeq = 0; }
      if (f.seq <= lastSeq && f.type !== "synced") return;   // exactly once, whatever the path
      if (f.type !== "synced") lastSeq = f.seq;
    }
    switch (f.type) {
      case "welcome":
        token = f.token; store.set("token", token);
        online = true; busy = false; setConn("");
        break;
      case "synced":
        flush();
        break;
      case "message":
        if (f.direction === "in") {
          if (f.id && files.mine(f)) { /* our own file message: its links are filled in */ }
          else if (f.id && pendingEls[f.id]) { pendingEls[f.id].querySelector(".fdw-state").textContent = t.sent; delete pendingEls[f.id]; }
          else if (!(f.id && seen[f.id])) files.show(bubble("in", f.text, f.at), f.attachments);
          if (f.id) seen[f.id] = true;
          showButtons([]);
        } else {
          if (f.id && seen[f.id]) return;
          if (f.id) seen[f.id] = true;
          setTyping(false);
          files.show(bubble("out", f.text, f.at), f.attachments);
          showButtons(f.buttons);
          if (!isOpen || document.hidden) { unread += 1; setBadge(); } else markRead();
        }
        break;
      case "status": showStatus(f); break;
      case "typing": setTyping(f.on !== false); break;
      case "read":
        if (f.conversation_id === conversationId && f.seq >= lastSeq) { unread = 0; setBadge(); }
        break;
      case "ack": acked(f.id); break;
      case "slow_down":
        setConn(t.slow);
        inFlight = null;
        setTimeout(function () { setConn(""); flush(); }, Math.max(250, f.retry_after * 1000));
        break;
      case "error":
        if (f.id) acked(f.id);  // a message the server will never take: do not resend forever
        if (window.console) console.warn("frontdesk webchat:", f.code, f.message);
        if (f.code === "bad_token") { token = ""; store.set("token", ""); }
        // A per-address limit of the server: say so, and keep retrying with backoff.
        if (f.code === "too_many_visitors" || f.code === "too_many_connections") { busy = true; setConn(t.busy); }
        break;
    }
  }
  function acked(id) {
    outbox = outbox.filter(function (m) { return m.id !== id; });
    store.set("outbox", outbox);
    if (pendingEls[id]) { pendingEls[id].querySelector(".fdw-state").textContent = t.sent; delete pendingEls[id]; }
    if (inFlight === id) { inFlight = null; flush(); }
  }

  // ------------------------------------------------------------------ sending (queued, in order)
  function newId() {
    var a = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(a);
    return "c_" + Array.prototype.map.call(a, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }
  function send(text, payload) {
    text = (text || "").trim();
    if (!text) return;
    var m = { id: newId(), text: text };
    if (payload) m.payload = payload;
    outbox.push(m);
    store.set("outbox", outbox);
    seen[m.id] = true;
    pendingEls[m.id] = bubble("in", text, 0, online ? "" : t.queued);
    showButtons([]);
    flush();
  }
  function flush() {
    // One message in flight at a time keeps them in order through slow-downs and reconnects.
    if (!online || inFlight || !outbox.length) return;
    var m = outbox[0];
    inFlight = m.id;
    transport.send(m);
  }
  function markRead() {
    if (online && conversationId && lastSeq) transport.read(conversationId, lastSeq);
  }
  var busy = false;
  function wentOffline() {
    online = false; inFlight = null;
    setConn(busy ? t.busy : navigator.onLine === false ? t.offline : t.reconnecting);
    Object.keys(pendingEls).forEach(function (id) { pendingEls[id].querySelector(".fdw-state").textContent = t.queued; });
  }

  // ------------------------------------------------------------------ transports
  var delay = 500;
  function backoff(fn) {
    var wait = delay / 2 + Math.random() * delay / 2;
    delay = Math.min(delay * 2, 15000);
    setTimeout(fn, wait);
  }
  var everOpened = false, wsFailures = 0;
  var ws = {
    sock: null,
    start: function () {
      var url = origin.replace(/^http/, "ws") + "/webchat/ws";
      var s = new WebSocket(url);
      var opened = false;
      ws.sock = s;
      s.onopen = function () {
        opened = everOpened = true; wsFailures = 0; delay = 500;
        var hello = { type: "hello", token: token, conversation_id: conversationId, last_seq: lastSeq, batch: true };
        // A signed identity token from the company's site (data-identity-token) links the
        // visitor to their customer record; see docs/identity.md.
        if (data.identityToken) hello.identity_token = data.identityToken;
        s.send(JSON.stringify(hello));
      };
      s.onmessage = function (e) { try { handle(JSON.parse(e.data)); } catch (err) { if (window.console) console.warn(err); } };
      s.onclose = function (e) {
        if (ws.sock !== s) return;
        ws.sock = null;
        wentOffline();
        if (!opened && !everOpened && ++wsFailures >= 3) { transport = poll; poll.start(); return; }
        if (e.code === 4000) { resumeOnActivity(ws.start); return; }  // idle: wait for the person
        backoff(ws.start);
      };
    },
    send: function (m) { if (ws.sock && ws.sock.readyState === 1) ws.sock.send(JSON.stringify(Object.assign({ type: "message" }, m))); else inFlight = null; },
    read: function (c, seq) { if (ws.sock && ws.sock.readyState === 1) ws.sock.send(JSON.stringify({ type: "read", seq: seq })); }
  };
  function api(method, path, body) {
    var headers = { "Content-Type": "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    return fetch(origin + path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined, mode: "cors", credentials: "omit" })
      .then(function (r) { return r.status === 204 ? {} : r.json().then(function (j) { j.__status = r.status; return j; }); });
  }
  var poll = {
    running: false,
    start: function () {
      var pollHello = { token: token };
      if (data.identityToken) pollHello.identity_token = data.identityToken;
      api("POST", "/webchat/hello", pollHello).then(function (w) {
        if (w.__status === 401) { token = ""; store.set("token", ""); throw new Error("token refused"); }
        if (w.__status === 429) { handle(w); throw new Error("busy"); }
        handle(w); delay = 500; poll.running = true; poll.loop(true);
      }).catch(function () { wentOffline(); backoff(poll.start); });
    },
    loop: function (first) {
      var q = "/webchat/poll?after=" + lastSeq + "&wait=" + (first ? 0 : 25) + (conversationId ? "&conversation_id=" + encodeURIComponent(conversationId) : "");
      api("GET", q).then(function (r) {
        if (r.__status >= 400) { handle(r); throw new Error("poll refused"); }  // backoff, no spin
        if (!online) { online = true; busy = false; setConn(""); }
        (r.frames || []).forEach(handle);
        if (first) flush();
        poll.loop(false);
      }).catch(function () { wentOffline(); backoff(poll.start); });
    },
    send: function (m) {
      api("POST", "/webchat/messages", m).then(handle).catch(function () { inFlight = null; wentOffline(); });
    },
    read: function (c, seq) { api("POST", "/webchat/read", { conversation_id: c, seq: seq }).catch(function () {}); }
  };
  var transport = cfg.transport === "poll" || !window.WebSocket ? poll : ws;
  function resumeOnActivity(fn) {
    var go = function () { ["focus", "keydown", "pointerdown"].forEach(function (n) { window.removeEventListener(n, go, true); }); fn(); };
    ["focus", "keydown", "pointerdown"].forEach(function (n) { window.addEventListener(n, go, true); });
  }

  // ------------------------------------------------------------------ opening, closing, keys
  function open() {
    isOpen = true; panel.hidden = false; launcher.setAttribute("aria-expanded", "true");
    toBottom();  // a reload replays the log while the panel is closed: open at the newest
    unread = 0; setBadge(); markRead(); input.focus();
  }
  function close() {
    isOpen = false; panel.hidden = true; launcher.setAttribute("aria-expanded", "false"); launcher.focus();
  }
  launcher.addEventListener("click", function () { if (isOpen) close(); else open(); });
  closeBtn.addEventListener("click", close);
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") close(); });
  form.addEventListener("submit", function (e) { e.preventDefault(); send(input.value); input.value = ""; input.focus(); });
  input.addEventListener("keydown", function (e) {
    // An input method's Enter confirms a candidate (pinyin …); Safari sends it after
    // compositionend with isComposing false, but keyCode 229 like every IME key press.
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) { e.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.onsubmit(); }
  });
  document.addEventListener("visibilitychange", function () { if (!document.hidden && isOpen) markRead(); });
  window.addEventListener("online", function () { delay = 500; });

  // ------------------------------------------------------------------ the visitor's typing
  // Shows the agent "Customer is typing…" (the `typing` frame, docs/webchat-protocol.md):
  // at most one "on" every 2 s while keys are pressed, "off" when the box is emptied or 5 s
  // after the last key. WebSocket only: the long-polling fallback does not send it.
  function reportOwnTyping() {
    var lastOn = 0, idle = null;
    function signal(on) {
      if (online && ws.sock && ws.sock.readyState === 1) ws.sock.send(JSON.stringify({ type: "typing", on: on }));
    }
    function stopped() { clearTimeout(idle); if (lastOn) { lastOn = 0; signal(false); } }
    input.addEventListener("input", function () {
      if (!input.value.trim()) { stopped(); return; }
      clearTimeout(idle);
      if (Date.now() - lastOn >= 2000) { lastOn = Date.now(); signal(true); }
      idle = setTimeout(stopped, 5000);
    });
    // The message itself ends the indicator on the agent's side.
    form.addEventListener("submit", function () { clearTimeout(idle); lastOn = 0; });
  }
  reportOwnTyping();

  greet = el("li", "fdw-msg fdw-out fdw-greeting");
  greet.appendChild(el("p", "fdw-text")).textContent = greetingFor(lang);
  logEl.appendChild(greet);
  // ------------------------------------------------------------------ attachments (files both ways)
  // A file is uploaded first (POST /webchat/attachments with the visitor token), then a
  // message frame names its id, queued like any other message. Files in the log come with
  // links the server signed for this visitor: images are shown scaled down (CSS), anything
  // else is a download link. Names are put on the page with textContent.
  files = (function () {
    var W = {
      en: { attach: "Attach a file", uploading: "Uploading {name}…", failed: "The file could not be sent: {why}", download: "Download" },
      zh: { attach: "添加附件", uploading: "正在上传 {name}…", failed: "文件未能发送：{why}", download: "下载" }
    };
    function w(k) { return W[lang][k]; }
    var ACCEPT = "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain,.txt,.pdf";
    var button = el("button", "fdw-attach", { type: "button", "aria-label": w("attach"), title: w("attach") });
    button.textContent = "📎";
    var picker = el("input", "fdw-file", { type: "file", accept: ACCEPT, hidden: "", tabindex: "-1" });
    var notice = el("div", "fdw-file-notice", { role: "alert", hidden: "" });
    form.insertBefore(button, input);
    form.appendChild(picker);
    panel.insertBefore(notice, form);
    var mineEls = {};                       // client id → our bubble with files, until linked
    function say(text) { notice.textContent = text || ""; notice.hidden = !text; }
    function size(n) { return n >= 1048576 ? (n / 1048576).toFixed(1) + " MB" : Math.max(1, Math.round(n / 1024)) + " KB"; }
    function show(li, list) {
      if (!li || !list || !list.length) return li;
      var box = li.querySelector(".fdw-files") || li.insertBefore(el("div", "fdw-files"), li.querySelector(".fdw-meta"));
      while (box.firstChild) box.removeChild(box.firstChild);
      list.forEach(function (a) {
        var url = a.url ? (a.url.charAt(0) === "/" ? origin + a.url : a.url) : "";
        var item;
        if (url && a.kind === "image") {
          item = el("a", "fdw-file-image", { href: url, target: "_blank", rel: "noopener noreferrer" });
          // The thumbnail made when the image was stored; without one, a file icon (an
          // image too large to decode safely is never handed to the browser whole).
          var thumb = a.thumbnail_url ? (a.thumbnail_url.charAt(0) === "/" ? origin + a.thumbnail_url : a.thumbnail_url) : url;
          var img = el("img", "fdw-thumb", { src: thumb, alt: a.name || "" });
          img.addEventListener("error", function () {
            var icon = el("span", "fdw-file-link");
            icon.textContent = "🖼 " + (a.name || w("download"));
            if (img.parentNode) img.parentNode.replaceChild(icon, img);
          });
          item.appendChild(img);
        } else if (url) {
          item = el("a", "fdw-file-link", { href: url, download: a.name || "", rel: "noopener noreferrer" });
          item.textContent = "📄 " + (a.name || w("download")) + (a.size ? " (" + size(a.size) + ")" : "");
        } else {
          item = el("span", "fdw-file-link");
          item.textContent = "📄 " + (a.name || "");
        }
        box.appendChild(item);
      });
      if (pinned) toBottom();
      return li;
    }
    function pending(li, m) {
      if (m.files && m.files.length) { mineEls[m.id] = li; show(li, m.files); }
      return li;
    }
    function mine(f) {
      var li = mineEls[f.id];
      if (!li) return false;
      delete mineEls[f.id];
      show(li, f.attachments);
      li.querySelector(".fdw-state").textContent = t.sent;
      delete pendingEls[f.id];
      return true;
    }
    function refused(body) {
      var e = (body && (body.error || body)) || {};  // a limit answers {code, message}
      var why = (lang === "zh" && e.message_zh) || e.message || String(body && body.__status || "");
      say(w("failed").replace("{why}", why));
    }
    // Files go one after another, so their messages keep the order they were chosen in
    // (a large file, or an image the server makes a thumbnail of, takes longer to store).
    var uploads = Promise.resolve();
    function upload(file) {
      uploads = uploads.then(function () { return uploadOne(file); });
      return uploads;
    }
    function uploadOne(file) {
      if (!token) { refused({ error: { message: t.reconnecting, message_zh: t.reconnecting } }); return; }
      say(w("uploading").replace("{name}", file.name));
      var body = new FormData();
      body.append("file", file, file.name);
      return fetch(origin + "/webchat/attachments", { method: "POST", body: body, headers: { Authorization: "Bearer " + token }, mode: "cors", credentials: "omit" })
        .then(function (r) { return r.json().then(function (j) { j.__status = r.status; return j; }); })
        .then(function (j) {
          if (j.__status !== 201 || !j.attachment) { refused(j); return; }
          say("");
          var a = j.attachment;
          var m = { id: newId(), text: input.value.trim(), attachments: [a.id], files: [{ kind: a.kind, name: a.name, size: a.size }] };
          input.value = "";
          outbox.push(m);
          store.set("outbox", outbox);
          seen[m.id] = true;
          pendingEls[m.id] = pending(bubble("in", m.text, 0, online ? "" : t.queued), m);
          showButtons([]);
          flush();
        })
        .catch(function () { refused({ error: { message: t.offline, message_zh: STRINGS.zh.offline } }); });
    }
    button.addEventListener("click", function () { picker.click(); });
    picker.addEventListener("change", function () {
      var chosen = picker.files && picker.files[0];
      picker.value = "";
      if (chosen) upload(chosen);
    });
    function relabel() { button.setAttribute("aria-label", w("attach")); button.setAttribute("title", w("attach")); }
    return { show: show, pending: pending, mine: mine, upload: upload, relabel: relabel };
  })();
  // ------------------------------------------------------------------ end of attachments

  outbox.forEach(function (m) { seen[m.id] = true; pendingEls[m.id] = files.pending(bubble("in", m.text, 0, t.queued), m); });

  window.FrontdeskWebchat = { open: open, close: close, send: send };
  transport.start();
})();
