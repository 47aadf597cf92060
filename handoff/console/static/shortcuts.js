/* Keyboard shortcuts for the workspace. The keys and what they do are listed once, in the
   help overlay of workspace.html (data-key, data-action), which "?" opens. A key never fires
   while the agent is typing in a field, nor with Ctrl, Alt or Meta held. */
"use strict";

(() => {
  const help = document.getElementById("shortcuts-help");
  const W = () => window.Workspace;

  function typingInAField(target) {
    return target instanceof HTMLElement
      && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
  }

  function tickets() { return [...document.querySelectorAll(".ticket[data-id]")]; }

  function step(by) {
    const all = tickets();
    if (!all.length) return;
    const at = all.findIndex((node) => node.dataset.id === W().openId());
    const next = all[at < 0 ? (by > 0 ? 0 : all.length - 1) : (at + by + all.length) % all.length];
    next.focus();
    W().open(next.dataset.id).catch(() => {});
  }

  function press(id) {
    const button = document.getElementById(id);
    if (button && !button.hidden && !button.disabled && !document.getElementById("open").hidden) button.click();
  }

  function compose(asNote) {
    const box = document.getElementById("as-note");
    if (document.getElementById("open").hidden) return;
    if (box.checked !== asNote) { box.checked = asNote; box.dispatchEvent(new Event("change")); }
    document.getElementById("reply").focus();
  }

  function toggleHelp(show) {
    help.hidden = !show;
    if (show) help.querySelector("button").focus();
  }

  const ACTIONS = {
    next: () => step(1),
    previous: () => step(-1),
    take: () => press("accept"),
    reply: () => compose(false),
    note: () => compose(true),
    resolve: () => press("resolve"),
    transfer: () => press("transfer"),
    help: () => toggleHelp(help.hidden),
  };
  const KEYS = Object.fromEntries([...help.querySelectorAll("[data-key]")].map((row) => [row.dataset.key, ACTIONS[row.dataset.action]]));

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !help.hidden) { toggleHelp(false); return; }
    if (event.ctrlKey || event.altKey || event.metaKey || Console.composing(event) || typingInAField(event.target)) return;
    const action = KEYS[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });
  help.querySelector("button").addEventListener("click", () => toggleHelp(false));
  document.getElementById("shortcuts-open").addEventListener("click", () => toggleHelp(true));
  help.addEventListener("click", (event) => { if (event.target === help) toggleHelp(false); });
})();
