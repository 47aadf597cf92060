"""What the customer is told, in English and Chinese (each text can be overridden in
handoff.yaml under `messages:`). Placeholders use str.format names."""

from __future__ import annotations

from collections.abc import Mapping

from hub.model import Button, Outbound

#: What the "Back to the bot" button sends; the hand-off engine withdraws the request on it.
LEAVE_PAYLOAD = "/handoff_leave"
#: What the follow-up question's buttons send, followed by yes, no or stop.
FOLLOWUP_PAYLOAD = "/followup"

DEFAULTS: dict[str, dict[str, str]] = {
    "queued": {
        "en": "I'm passing you to a person (ticket {ticket}). You are number {position} in "
        "the queue. {wait}",
        "zh": "正在为您转接人工客服（工单 {ticket}）。您排在第 {position} 位。{wait}",
    },
    "queued_offline": {
        "en": "Our team is not available right now ({hours}). Leave your message here and a "
        "person will answer on this channel as soon as we are back (ticket {ticket}).",
        "zh": "人工客服暂时不在线（{hours}）。请直接留言，我们上班后会在这里回复您（工单 {ticket}）。",
    },
    "queued_unattended": {
        "en": "Nobody from our team is online right now. Leave your message here and a person "
        "will answer on this channel as soon as someone is available (ticket {ticket}).",
        "zh": "暂时没有客服在线。请直接留言，客服上线后会在这里回复您（工单 {ticket}）。",
    },
    "queue_update": {
        "en": "Update: you are now number {position} in the queue. {wait}",
        "zh": "最新进度：您现在排在第 {position} 位。{wait}",
    },
    "joined": {
        "en": "{agent} from our team has joined the conversation.",
        "zh": "客服 {agent} 已接入，为您服务。",
    },
    "status_none": {
        "en": "You have no open ticket. Just write your question and I'll help.",
        "zh": "您目前没有进行中的工单。直接告诉我您的问题即可。",
    },
    "status_resolved": {
        "en": "You have no open ticket. Your last one ({ticket}) was resolved on {date}.",
        "zh": "您目前没有进行中的工单。您上一个工单（{ticket}）已于 {date} 解决。",
    },
    "status_queued": {
        "en": "Your ticket {ticket} is waiting for a person: number {position} in the "
        "queue. {wait}",
        "zh": "您的工单 {ticket} 正在排队：第 {position} 位。{wait}",
    },
    # The `{wait}` of the three above: a bucket from handoff/wait.py ("about 10 minutes" /
    # "约 10 分钟"), or that it takes longer than usual; nothing when the history is too thin.
    "wait_estimate": {
        "en": "The expected wait is {wait}.",
        "zh": "预计等待{wait}。",
    },
    "wait_longer": {
        "en": "It is taking longer than usual; thank you for waiting.",
        "zh": "等待时间比平时久一些，感谢您的耐心。",
    },
    "status_offline": {
        "en": "Your ticket {ticket} is recorded; our team will answer here when we are back "
        "({hours}).",
        "zh": "您的工单 {ticket} 已记录，客服上班后会在这里回复您（{hours}）。",
    },
    "status_unattended": {
        "en": "Your ticket {ticket} is recorded; nobody is online right now, and a person "
        "will answer here as soon as someone is available.",
        "zh": "您的工单 {ticket} 已记录；暂无客服在线，客服上线后会在这里回复您。",
    },
    "status_offered": {
        "en": "Your ticket {ticket} is still waiting: a person is about to pick it up.",
        "zh": "您的工单 {ticket} 仍在等待：客服即将接入。",
    },
    "status_assigned": {
        "en": "Your ticket {ticket} is being handled by {agent}.",
        "zh": "您的工单 {ticket} 正由客服 {agent} 处理。",
    },
    "resolved": {
        "en": "Your request is resolved. Thank you for contacting us!",
        "zh": "您的问题已处理完毕，感谢您的耐心！",
    },
    "csat": {
        "en": "How satisfied are you with the help you got? (1 = very unhappy, 5 = very happy)",
        "zh": "您对本次服务满意吗？（1 = 非常不满意，5 = 非常满意）",
    },
    "nps": {
        "en": "How likely are you to recommend us to a friend? (0–10)",
        "zh": "您有多大可能向朋友推荐我们？（0–10）",
    },
    "feedback_thanks": {
        "en": "Thank you for your feedback! Anything you'd like to add? Just write it here.",
        "zh": "感谢您的评价！如有其他意见，可以直接留言。",
    },
    "comment_thanks": {
        "en": "Thanks, we've passed your comment on to the team.",
        "zh": "谢谢，您的意见我们已转达给团队。",
    },
    "handed_back": {
        "en": "I'm the assistant again. How else can I help?",
        "zh": "我是智能助手，还有什么可以帮您？",
    },
    "left_queue": {
        "en": "OK, I've cancelled your request for a person. I'm the assistant again: "
        "what can I help you with?",
        "zh": "好的，已为您取消人工客服请求。我是智能助手，有什么可以帮您？",
    },
    "not_queued": {
        "en": "You are not waiting for a person. I'm the assistant: what can I help you with?",
        "zh": "您目前没有在等待人工客服。我是智能助手，有什么可以帮您？",
    },
    "leave_too_late": {
        "en": "A person from our team is already with you; just write here.",
        "zh": "客服已经接入，请直接在这里留言。",
    },
    "noted": {
        "en": "Got it. I've added this to your request; an agent will see it when they pick "
        "up your conversation.",
        "zh": "已收到，这条消息已加到您的请求中，客服接入后会看到。",
    },
    "leave_button": {
        "en": "Back to the bot",
        "zh": "返回机器人",
    },
    "followup_question": {
        "en": "Hello again! We helped you with ticket {ticket} on {date}. Is the problem "
        "still solved?",
        "zh": "您好！我们在 {date} 处理了您的工单 {ticket}。请问问题现在还解决着吗？",
    },
    "followup_yes": {"en": "Yes, all good", "zh": "是的，已解决"},
    "followup_no": {"en": "No, not solved", "zh": "没有，还有问题"},
    "followup_stop": {"en": "Don't ask me again", "zh": "不要再回访我"},
    "followup_thanks": {
        "en": "Great to hear, thank you for letting us know!",
        "zh": "太好了，感谢您的反馈！",
    },
    "followup_stopped": {
        "en": "Understood: we won't follow up with you again.",
        "zh": "好的，我们以后不会再回访您。",
    },
    "reopened": {
        "en": "Welcome back! I've reopened your ticket ({ticket}); a person will pick it up "
        "shortly.",
        "zh": "欢迎回来！已为您重新打开工单（{ticket}），客服将尽快接入。",
    },
}


class Texts:
    """Customer-facing texts with operator overrides."""

    def __init__(self, overrides: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self._texts = {key: dict(value) for key, value in DEFAULTS.items()}
        for key, value in (overrides or {}).items():
            self._texts.setdefault(key, {}).update(value)

    def text(self, key: str, lang: str, **values: object) -> str:
        texts = self._texts[key]
        template = texts.get(lang) or texts.get("en") or next(iter(texts.values()))
        # A sentence left empty at the end (no wait estimate yet) leaves no stray space.
        return template.format(**values).rstrip()

    def say(self, key: str, lang: str, **values: object) -> Outbound:
        return Outbound(text=self.text(key, lang, **values))

    def leave_button(self, lang: str) -> Button:
        """The button that withdraws a waiting hand-off ("Back to the bot" / "返回机器人")."""
        return Button(title=self.text("leave_button", lang), payload=LEAVE_PAYLOAD)

    def scale(self, key: str, lang: str, low: int, high: int) -> Outbound:
        """A rating question with one button per score (channels without buttons number them)."""
        buttons = tuple(Button(title=str(n), payload=f"/{key} {n}") for n in range(low, high + 1))
        return Outbound(text=self.text(key, lang), buttons=buttons)


def followup_question(texts: Texts, lang: str, *, ticket: str, date: str) -> Outbound:
    """The follow-up question with its three answers as buttons (a numbered list where a
    channel has no buttons); the payloads are language-free so any channel's reply parses."""
    buttons = tuple(
        Button(title=texts.text(f"followup_{kind}", lang), payload=f"{FOLLOWUP_PAYLOAD} {kind}")
        for kind in ("yes", "no", "stop")
    )
    return Outbound(
        text=texts.text("followup_question", lang, ticket=ticket, date=date), buttons=buttons
    )
