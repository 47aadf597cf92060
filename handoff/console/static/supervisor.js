/* The supervisor's floor: queue per skill, agents, alerts, reassign — live. */
"use strict";

(() => {
  const { t, api, now, el, duration, live, debounce, setupHeader, toast } = Console;
  const alerts = [];

  function level(ticket) {
    const at = now();
    return at >= ticket.sla.due ? "red" : at >= ticket.sla.warn ? "amber" : "ok";
  }

  function reassignCell(ticket, agents) {
    const select = el("select", { "aria-label": t("reassign") }, el("option", { value: "", text: "…" }),
      ...agents.map((a) => el("option", { value: a.id, text: `${a.name} (${a.load}/${a.capacity})` })));
    select.addEventListener("change", async () => {
      if (!select.value) return;
      await api("POST", `/console/api/conversations/${encodeURIComponent(ticket.conversation_id)}/reassign`, { to_agent: select.value });
      refresh();
    });
    return el("td", {}, select);
  }

  async function refresh() {
    const data = await api("GET", "/console/api/snapshot");
    document.getElementById("by-skill").replaceChildren(...Object.entries(data.by_skill).map(([skill, n]) => el("li", { text: `${skill}: ${n}` })));
    document.getElementById("agents").replaceChildren(...data.agents.map((a) =>
      el("li", {}, el("span", { class: `dot presence-${a.presence}`, text: "●" }), ` ${a.name} · ${t("presence." + a.presence)} · ${a.load}/${a.capacity} `,
        el("button", { type: "button", class: "link", text: t("edit"), "aria-label": `${t("edit")} ${a.name}`, onclick: () => editAgent(a) }))));
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
  live((message) => { if (message.type === "alert") showAlert(message); later(); });
  setInterval(refresh, 15000);
  refresh();
})();
