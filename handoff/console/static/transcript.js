/* A conversation's timeline, read only: the contact panel's earlier conversations and the
   supervisor's reader. Values go in with textContent (Console.el), never as markup. */
"use strict";

const Transcript = (() => {
  const { t, el } = Console;

  function item(entry) {
    const head = el("div", { class: "meta" }, el("span", { text: new Date(entry.at * 1000).toLocaleString() }));
    if (entry.who === "customer") head.append(el("span", { class: `badge badge-${entry.channel}`, text: entry.channel }));
    if (entry.unverified) head.append(el("span", { class: "badge badge-unverified", text: t("unverified") }));
    if (entry.who === "whisper") head.append(el("span", { class: "badge badge-whisper", text: t("whisper.label") }));
    if (entry.agent) head.append(el("span", { class: "badge", text: entry.agent }));
    const node = el("li", { class: `item item-${entry.who}` }, head, el("div", { class: "text", text: entry.text || "" }));
    if (entry.buttons && entry.buttons.length) node.append(el("div", { class: "buttons", text: entry.buttons.join(" | ") }));
    return node;
  }

  function render(list, timeline) {
    list.replaceChildren(...timeline.map(item));
    list.scrollTop = list.scrollHeight;
  }

  return { render };
})();
