/* The supervisor's floor: queue per skill, agents, alerts, reassign — live. */
"use strict";

(() => {
  const { t, api, now, el, duration, live, update, debounce, setupHeader, toast } = Console;
  const alerts = [];

  function level(ticket) {
    const at = now();
    return at >= ticket.sla.due ? "red" : at >= ticket.sla.warn ? "amber" : "ok";
  }

  function agentOptions(agents) {
    return [el("option", { value: "", text: "…" }),
      ...agents.map((a) => el("option", { value: a.id, text: `${a.name} (${a.load}/${a.capacity})` }))];
  }

  function reassignCell(ticket, agents) {
    const select = el("select", { "aria-label": t("reassign") }, ...agentOptions(agents));
    const reason = el("input", { maxLength: 500, placeholder: t("reassign.reason"), "aria-label": t("reassign.reason") });
    select.addEventListener("change", async () => {
      if (!select.value) return;
      await reassign(ticket.conversation_id, select.value, reason.value).catch(() => {});
      refresh();
    });
    const open = el("button", { type: "button", class: "link", text: t("open_conversation") });
    open.addEventListener("click", () => openReader(ticket.conversation_id));
    return el("td", {}, select, " ", reason, " ", open);
  }

  // A reassign's reason is stored with the event and shown to the agent who receives it.
  function reassign(conversationId, toAgent, reason) {
    return api("POST", `/console/api/conversations/${encodeURIComponent(conversationId)}/reassign`, { to_agent: toAgent, note: reason || "" });
  }

  // -- the reader: any conversation, open or closed; join, whisper, reassign with a reason
  let reading = null;
  let agentsNow = [];

  async function openReader(conversationId) {
    const data = await api("GET", `/console/api/transcripts/${encodeURIComponent(conversationId)}`);
    reading = conversationId;
    const box = document.getElementById("reader");
    box.hidden = false;
    const ticket = data.ticket;
    document.getElementById("reader-title").textContent = [ticket ? ticket.ticket : "", data.conversation.channel, data.conversation.status, ticket && ticket.agent_id ? ticket.agent_id : ""].filter(Boolean).join(" · ");
    Transcript.render(document.getElementById("reader-timeline"), data.timeline);
    const joined = data.participants.includes(Console.me);
    const open = Boolean(ticket);
    document.getElementById("reader-join").hidden = !open || joined;
    document.getElementById("reader-reply-form").hidden = !joined;
    document.getElementById("whisper-form").hidden = !(ticket && ticket.agent_id);
    document.getElementById("reassign-form").hidden = !open;
    document.getElementById("reassign-to").replaceChildren(...agentOptions(agentsNow));
    box.scrollIntoView({ block: "nearest" });
  }

  function readerPath(verb) { return `/console/api/conversations/${encodeURIComponent(reading)}/${verb}`; }

  document.getElementById("reader-close").addEventListener("click", () => { reading = null; document.getElementById("reader").hidden = true; });
  document.getElementById("reader-join").addEventListener("click", async () => {
    await api("POST", readerPath("join"), {});
    toast(t("joined"));
    openReader(reading);
  });
  // A whisper (to the agent only) and a joined supervisor's reply (to the customer).
  function sends(formId, boxId, verb) {
    document.getElementById(formId).addEventListener("submit", async (event) => {
      event.preventDefault();
      const box = document.getElementById(boxId);
      if (!box.value.trim()) return;
      await api("POST", readerPath(verb), { text: box.value });
      box.value = "";
      openReader(reading);
    });
  }
  sends("whisper-form", "whisper-text", "whisper");
  sends("reader-reply-form", "reader-reply", "reply");
  document.getElementById("reassign-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const to = document.getElementById("reassign-to").value;
    const reason = document.getElementById("reassign-reason").value.trim();
    if (!to || !reason) return;
    await reassign(reading, to, reason);
    document.getElementById("reassign-reason").value = "";
    toast(t("saved"));
    refresh();
    openReader(reading);
  });

  // -- the dashboard's drill-down: the conversations behind a figure
  async function drill(figure) {
    const query = new URLSearchParams(window.location.search);
    query.set("figure", figure);
    const data = await api("GET", "/console/api/dashboard/conversations?" + query.toString());
    document.getElementById("drill").hidden = false;
    document.getElementById("drill-figure").textContent = figure;
    document.getElementById("drill-rows").replaceChildren(...data.items.map((row) => {
      const open = el("button", { type: "button", class: "link", text: t("open_conversation") });
      open.addEventListener("click", () => openReader(row.conversation_id));
      return el("tr", { "data-id": row.conversation_id },
        el("td", { text: new Date(row.created_at * 1000).toLocaleString() }),
        el("td", { text: row.channel }),
        el("td", { text: row.intent || "—" }),
        el("td", { text: row.agent || "—" }),
        el("td", {}, open));
    }));
  }
  for (const button of document.querySelectorAll("button.drill")) button.addEventListener("click", () => drill(button.dataset.figure));

  async function refresh() {
    const data = await api("GET", "/console/api/snapshot");
    document.getElementById("by-skill").replaceChildren(...Object.entries(data.by_skill).map(([skill, n]) => el("li", { text: `${skill}: ${n}` })));
    agentsNow = data.agents;
    // Each agent's open conversations, one click from the reader.
    const held = (agent) => data.assigned.filter((x) => x.agent_id === agent.id).map((x) =>
      el("button", { type: "button", class: "link held", "data-id": x.conversation_id, text: `${x.ticket} ${x.priority} ${x.channel}`, onclick: () => openReader(x.conversation_id) }));
    update(document.getElementById("agents"), data.agents.map((a) =>
      el("li", { "data-agent": a.id, "data-key": a.id, "data-sig": JSON.stringify([a, held(a).map((b) => b.textContent + b.dataset.id)]) }, el("span", { class: `dot presence-${a.presence}`, text: "●" }), ` ${a.name} · ${t("presence." + a.presence)} · ${a.load}/${a.capacity} `,
        el("button", { type: "button", class: "link", text: t("edit"), "aria-label": `${t("edit")} ${a.name}`, onclick: () => editAgent(a) }),
        el("div", { class: "held-list", "aria-label": `${t("floor.conversations")} ${a.name}` }, ...held(a)))));
    const rows = data.queue.concat(data.assigned).map((ticket) => el("tr", { class: `sla-row-${level(ticket)}` },
      el("td", { text: ticket.priority }),
      el("td", { text: ticket.channel }),
      el("td", { text: ticket.agent_id || "—" }),
      el("td", { class: `sla sla-${level(ticket)}`, text: `${t("sla." + ticket.sla.kind)} ${duration(ticket.sla.due - now())}` }),
      reassignCell(ticket, data.agents),
    ));
    document.getElementById("floor-rows").replaceChildren(...rows);
    const me = data.me.agent;
    if (me) document.getElementById("presence").value = me.presence;
  }

  // Who an agent is (skills, languages, capacity, team) is edited here and kept in the
  // account store; the engine follows at once.
  let editing = null;
  function editAgent(agent) {
    editing = agent.id;
    const form = document.getElementById("agent-form");
    document.getElementById("agent-form-name").textContent = agent.name;
    document.getElementById("agent-skills").value = (agent.skills || []).join(", ");
    for (const box of form.querySelectorAll('input[name="agent-language"]')) box.checked = (agent.languages || []).includes(box.value);
    document.getElementById("agent-capacity").value = String(agent.capacity);
    document.getElementById("agent-team").value = agent.team || "";
    form.hidden = false;
    document.getElementById("agent-skills").focus();
  }

  document.getElementById("agent-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!editing) return;
    const form = event.target;
    const body = {
      skills: document.getElementById("agent-skills").value.split(/[,，\s]+/).filter(Boolean),
      languages: [...form.querySelectorAll('input[name="agent-language"]:checked')].map((b) => b.value),
      capacity: Number(document.getElementById("agent-capacity").value),
      team: document.getElementById("agent-team").value,
    };
    await api("PUT", `/console/api/agents/${encodeURIComponent(editing)}`, body);
    form.hidden = true;
    toast(t("saved"));
    refresh();
  });

  function showAlert(message) {
    alerts.unshift(`${new Date().toLocaleTimeString()} ${message.alert} ${message.kind || ""}`);
    document.getElementById("alerts").replaceChildren(...alerts.slice(0, 20).map((a) => el("li", { class: "alert", text: a })));
  }

  setupHeader(() => refresh());
  const later = debounce(refresh, 200);
  live((message) => {
    if (message.type === "alert") showAlert(message);
    later();
    if (reading && message.conversation_id === reading) openReader(reading).catch(() => {});
  });
  setInterval(refresh, 15000);
  refresh();
})();
