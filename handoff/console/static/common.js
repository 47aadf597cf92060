/* Frontdesk console, shared helpers. Plain JavaScript, no build step.
   Everything from the server is put into the page with textContent, never innerHTML:
   what a customer typed stays text. */
"use strict";

const Console = (() => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const strings = JSON.parse(document.getElementById("strings").textContent);
  let serverOffset = 0; // server clock minus browser clock, so countdowns use server time

  function t(key) { return strings[key] || key; }

  // Whether a key press belongs to an input method (pinyin, zhuyin …): its Enter confirms a
  // candidate and must not send. Safari sends that Enter after compositionend, with
  // isComposing false but keyCode 229, the code every IME key press has.
  function composing(event) { return event.isComposing || event.keyCode === 229; }

  async function api(method, path, body, quiet) {
    const options = { method, headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    if (response.status === 401) { window.location.assign("/console/login"); throw new Error("logged out"); }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const message = (data.error && data.error.message) || response.statusText;
      if (!quiet) toast(t("error") + " " + message);
      throw new Error(message);
    }
    if (typeof data.now === "number") serverOffset = data.now - Date.now() / 1000;
    return data;
  }

  function now() { return Date.now() / 1000 + serverOffset; }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("data-") || key.startsWith("aria-")) node.setAttribute(key, value);
      else node[key] = value;
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function duration(seconds) {
    const s = Math.max(0, Math.round(Math.abs(seconds)));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    // Units from the catalogue: "1h 5m" in English, "1小时 5分" in Chinese.
    const [uh, um, us] = [t("unit.h"), t("unit.m"), t("unit.s")];
    return h ? `${h}${uh} ${m}${um}` : m ? `${m}${um} ${String(r).padStart(2, "0")}${us}` : `${r}${us}`;
  }

  function toast(message) {
    const node = document.getElementById("toast");
    node.textContent = message;
    node.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { node.hidden = true; }, 5000);
  }

  function beep() {
    // A short tone from WebAudio: no media file, nothing inline; browsers may refuse
    // sound before the first click on the page, which is fine.
    try {
      const ctx = new (window.AudioContext || window.webkitAudioContext)();
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = 880;
      gain.gain.value = 0.08;
      osc.connect(gain).connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.18);
    } catch (_) { /* no audio here */ }
  }

  function live(onMessage) {
    let delay = 500;
    let opened = false;
    function connect() {
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      const socket = new WebSocket(`${scheme}//${location.host}/console/ws`);
      socket.onopen = () => {
        delay = 500;
        document.body.classList.remove("offline-feed");
        // Back after a drop (a restart, a network hiccup): say again what this person chose,
        // so the page never shows "Online" while the server thinks otherwise.
        if (opened) announcePresence();
        opened = true;
        onMessage({ type: "hello" });
      };
      socket.onmessage = (event) => { try { onMessage(JSON.parse(event.data)); } catch (_) { /* ignore */ } };
      socket.onclose = () => {
        document.body.classList.add("offline-feed");
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 15000);
      };
    }
    connect();
  }

  // Lists redrawn from the server on every live update keep their elements: a node whose
  // data-key is already shown stays (updated in place when its data-sig changed). Replacing an
  // element under the pointer between mouse down and mouse up would swallow the click, and
  // that holds for the row's children too (the pointer is on one of them): they are patched,
  // and replaced only where the new row has a different shape.
  // The handlers el() sets as properties go with the data they were made for.
  const HANDLERS = ["onclick", "onchange", "oninput", "onkeydown", "onsubmit"];
  function patch(target, source) {
    for (const key of HANDLERS) if (target[key] !== source[key]) target[key] = source[key];
    for (const name of target.getAttributeNames()) if (!source.hasAttribute(name)) target.removeAttribute(name);
    for (const name of source.getAttributeNames()) {
      const value = source.getAttribute(name);
      if (target.getAttribute(name) !== value) target.setAttribute(name, value);
    }
    const olds = [...target.childNodes];
    const news = [...source.childNodes];
    if (olds.length !== news.length || olds.some((node, i) => node.nodeName !== news[i].nodeName)) {
      target.replaceChildren(...news);
      return;
    }
    olds.forEach((node, i) => {
      if (node.nodeType === Node.ELEMENT_NODE) patch(node, news[i]);
      else if (node.nodeValue !== news[i].nodeValue) node.nodeValue = news[i].nodeValue;
    });
  }

  function update(list, fresh) {
    const shown = new Map();
    for (const node of list.children) if (node.dataset.key) shown.set(node.dataset.key, node);
    const next = fresh.map((node) => {
      const kept = node.dataset.key ? shown.get(node.dataset.key) : undefined;
      if (!kept) return node;
      if (kept.dataset.sig !== node.dataset.sig) patch(kept, node);
      return kept;
    });
    const same = next.length === list.children.length && next.every((node, i) => list.children[i] === node);
    if (!same) list.replaceChildren(...next);
  }

  function debounce(fn, wait) {
    let timer = null;
    return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), wait); };
  }

  // What this person chose in this page (the select itself also shows what the server says).
  let chosenPresence = "";
  function announcePresence() {
    if (chosenPresence) api("POST", "/console/api/presence", { presence: chosenPresence }, true).catch(() => {});
  }

  function setupHeader(onPresence) {
    const presence = document.getElementById("presence");
    presence.addEventListener("change", async () => {
      chosenPresence = presence.value;
      await api("POST", "/console/api/presence", { presence: presence.value });
      if (onPresence) onPresence(presence.value);
    });
    document.getElementById("language").addEventListener("click", async (event) => {
      await api("POST", "/console/api/me/language", { language: event.target.dataset.switchTo });
      window.location.reload();
    });
  }

  const me = document.getElementById("me").dataset.id;

  return { t, api, now, el, duration, toast, beep, live, update, debounce, setupHeader, me, composing };
})();
