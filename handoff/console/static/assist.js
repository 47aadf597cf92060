/* Agent assist: the articles and canned responses that fit the open conversation, each
   inserted into the reply at the cursor with one click (compose.js keeps the draft). */
"use strict";
(() => {
  const strings = JSON.parse(document.getElementById("strings").textContent);
  const t = (key) => strings[key] || key;

  function item(kind, title, body, text) {
    const li = document.createElement("li");
    li.className = "assist-item";
    const label = document.createElement("span");
    label.className = "badge";
    label.textContent = t(kind === "article" ? "assist.article" : "assist.canned");
    const heading = document.createElement("strong");
    heading.textContent = ` ${title}`;
    const preview = document.createElement("p");
    preview.className = "assist-preview";
    preview.textContent = body;
    const insert = document.createElement("button");
    insert.type = "button";
    insert.className = "assist-insert";
    insert.textContent = t("assist.insert");
    insert.addEventListener("click", () => window.Compose.insertAtCursor(text));
    li.append(label, heading, preview, insert);
    return li;
  }

  document.addEventListener("console:opened", (event) => {
    const view = event.detail;
    const box = document.getElementById("assist");
    const list = document.getElementById("assist-list");
    const assist = view.assist || { articles: [], canned: [] };
    const canned = new Map((view.canned || []).map((c) => [c.name, c]));
    list.replaceChildren(
      ...assist.articles.map((a) => item("article", a.title, a.passage, a.passage + "\n" + a.link)),
      ...assist.canned.filter((name) => canned.has(name)).map((name) => {
        const c = canned.get(name);
        return item("canned", c.title, c.text, c.text);
      }),
    );
    box.hidden = list.children.length === 0;
  });
})();
