/* The supervisor's floor: queue per skill, agents, alerts, reassign — live. */
"use strict";

(() => {
  const { t, api, now, el, duration, live, debounce, setupHeader } = Console;
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
      el("li", {}, el("span", { class: `dot presence-${a.presence}`, text: "●" }), ` ${a.name} · ${t("presence." + a.presence)} · ${a.load}/${a.capacity}`)));
    const rows = data.queue.concat(data.assigned).map((ticket) => el("tr", { class: `sla-row-${level(ticket)}` },
      el("td", { text: ticket.priority }),
      el("td", { text: ticket.channel }),
      el("td", { text: ticket.agent_id || "—" }),
      el("td", { class: `sla sla-${level(ticket)}`, text: `${ticket.sla.kind} ${duration(ticket.sla.due - now())}` }),
      reassignCell(ticket, data.agents),
    ));
    document.getElementById("floor-rows").replaceChildren(...rows);
    const me = data.me.agent;
    if (me) document.getElementById("presence").value = me.presence;
  }

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
