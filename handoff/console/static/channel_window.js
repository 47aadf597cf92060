/* The provider's customer-service window of the open conversation (WhatsApp: 24 hours,
   WeChat: 48 hours after the customer last wrote), shown beside its title: after it, replies
   go as templates or are parked, so the agent should know before typing. On SMS: text only,
   long replies shortened, and whether the number opted out (STOP). */
"use strict";

const ChannelWindow = (() => {
  const { t, now, el } = Console;
  // Per channel that has one: its length in seconds and the words for "closes in" / "closed".
  const WINDOWS = {
    whatsapp: [24 * 3600, "channel.window_closes", "channel.window_closed"],
    wechat: [48 * 3600, "channel.wechat_window_closes", "channel.wechat_window_closed"],
  };

  function lastCustomerMessage(view, channel) {
    let last = null;
    for (const item of view.timeline || []) {
      if (item.who === "customer" && item.channel === channel && (last === null || item.at > last)) last = item.at;
    }
    return last;
  }

  // SMS has no window but carrier rules: a number that texted STOP gets nothing until START
  // (connectors/sms records when, on the customer, as sms_opted_out).
  function smsNote(view) {
    const attributes = (view.profile && view.profile.attributes) || {};
    return t(attributes.sms_opted_out ? "channel.sms_opted_out" : "channel.sms_text_only");
  }

  function text(view) {
    const channel = view.ticket && view.ticket.channel;
    if (channel === "sms") return smsNote(view);
    if (!WINDOWS[channel]) return "";
    const [length, closes, closed] = WINDOWS[channel];
    const last = lastCustomerMessage(view, channel);
    const left = last === null ? 0 : last + length - now();
    if (left <= 0) return t(closed);
    return t(closes).replace("{hours}", String(Math.max(1, Math.ceil(left / 3600))));
  }

  let shown = null;
  // The countdown moves on while the conversation stays open.
  setInterval(() => { if (shown) show(shown); }, 60_000);

  function show(view) {
    shown = view;
    const title = document.getElementById("conv-title");
    let badge = document.getElementById("channel-window");
    if (!badge) {
      badge = el("span", { id: "channel-window", class: "channel-window" });
      title.after(badge);
    }
    badge.textContent = text(view);
    badge.hidden = !badge.textContent;
  }

  // The workspace announces each conversation it opens (workspace.js).
  document.addEventListener("conversation:open", (event) => show(event.detail));

  return { show, text };
})();
