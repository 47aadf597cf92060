"""The bot's built-in messages, in English and Chinese; `settings.messages` overrides any."""

from __future__ import annotations

DEFAULT_MESSAGES: dict[str, dict[str, str]] = {
    # Out of scope or low confidence; the top candidates follow as buttons.
    "fallback": {
        "en": "Sorry, I didn't quite get that. Did you mean one of these?",
        "zh": "抱歉，我没太明白。您是想问以下哪一项？",
    },
    "rephrase": {
        "en": "Sorry, I didn't understand that. Could you say it another way?",
        "zh": "抱歉，我没有理解。能换个说法吗？",
    },
    "offer_human": {
        "en": "I'm having trouble understanding. Would you like to talk to a person?",
        "zh": "我好像没能理解您的问题。需要为您转接人工客服吗？",
    },
    "offer_declined": {
        "en": "No problem, let's keep trying. What can I help you with?",
        "zh": "好的，我们继续。请问有什么可以帮您？",
    },
    "handoff": {
        "en": "I'm connecting you with a member of our team. Someone will be with you shortly.",
        "zh": "正在为您转接人工客服，请稍候。",
    },
    "resume": {"en": "Now, back to where we were.", "zh": "好的，我们继续刚才的话题。"},
    "timeout": {
        "en": "It's been a while, so I've closed our earlier conversation.",
        "zh": "由于长时间没有回复，之前的对话已结束。",
    },
    "invalid": {
        "en": "Sorry, that doesn't look right.",
        "zh": "抱歉，输入的格式似乎不对。",
    },
    "gave_up": {
        "en": "Let's leave that for now. Is there anything else I can help with?",
        "zh": "我们先跳过这个问题。还有其他可以帮您的吗？",
    },
    "action_failed": {
        "en": "Sorry, I can't look that up right now. Please try again in a few minutes.",
        "zh": "抱歉，暂时无法查询，请稍后再试。",
    },
    "empty": {
        "en": "I can only read text messages for now. How can I help?",
        "zh": "目前我只能阅读文字消息。请问有什么可以帮您？",
    },
    "error": {
        "en": "Sorry, something went wrong on our side.",
        "zh": "抱歉，系统出了点问题。",
    },
    "yes": {"en": "Yes", "zh": "是的"},
    "no": {"en": "No", "zh": "不用"},
}

#: Typed answers to a yes/no offer (buttons send /handoff_accept or /handoff_decline).
YES_WORDS = frozenset(
    [
        "yes",
        "y",
        "yeah",
        "yep",
        "sure",
        "ok",
        "okay",
        "please",
        "是",
        "是的",
        "好",
        "好的",
        "要",
        "可以",
        "对",
        "需要",
        "嗯",
    ]
)
NO_WORDS = frozenset(["no", "n", "nope", "nah", "不", "不用", "不要", "不需要", "没有", "算了"])
