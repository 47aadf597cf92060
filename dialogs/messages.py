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
    # A knowledge-base answer: `article.title`, `article.link`, `article.passage` (quoted).
    "kb_answer": {
        "en": "From our help centre, “{{ article.title }}”:\n\n{{ article.passage }}\n\nMore: {{ article.link }}\n\nDid this help?",
        "zh": "帮助中心《{{ article.title }}》中写道：\n\n{{ article.passage }}\n\n详情：{{ article.link }}\n\n这对您有帮助吗？",
    },
    # A passage quoted beside other answers, or in the middle of a flow: no question.
    "kb_quote": {
        "en": "From our help centre, “{{ article.title }}”:\n\n{{ article.passage }}\n\nMore: {{ article.link }}",
        "zh": "帮助中心《{{ article.title }}》中写道：\n\n{{ article.passage }}\n\n详情：{{ article.link }}",
    },
    "kb_yes": {"en": "Yes, thanks", "zh": "有帮助"},
    "kb_no": {"en": "No", "zh": "没有帮助"},
    "kb_helped": {
        "en": "Glad it helped! Anything else I can do for you?",
        "zh": "很高兴能帮到您！还有其他问题吗？",
    },
    # Before an answer the customer was given just before, to the same topic's question.
    "repeat": {"en": "As I said above:", "zh": "如上所说："},
    # … and after it: the bot has nothing more on the topic, a person may.
    "offer_human_after_repeat": {
        "en": "If that doesn't answer your question, would you like me to bring in a person"
        " from our team?",
        "zh": "如果这没有解答您的问题，需要为您转接人工客服吗？",
    },
    # "That's not what I meant" after an answer: the question's other readings as buttons,
    # or (none) a request to say it another way.
    "misunderstood": {
        "en": "Sorry, I misunderstood. Did you mean one of these?",
        "zh": "抱歉，我理解错了。您是想问以下哪一项？",
    },
    "misunderstood_rephrase": {
        "en": "Sorry, I misunderstood. Could you say it in other words?",
        "zh": "抱歉，我理解错了。能换个说法再说一遍吗？",
    },
    "kb_not_helped": {
        "en": "Sorry it didn't help.",
        "zh": "抱歉没能帮到您。",
    },
    "offer_human": {
        "en": "I'm having trouble understanding. Would you like to talk to a person?",
        "zh": "我好像没能理解您的问题。需要为您转接人工客服吗？",
    },
    # After "Did this help?" was answered no: the bot understood, its answer fell short.
    "offer_human_after_answer": {
        "en": "Would you like me to bring in a person from our team?",
        "zh": "需要为您转接人工客服吗？",
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
    # Validation: `answer` is the value the customer gave, quoted so they see what was wrong.
    "invalid": {
        "en": "Sorry, “{{ answer }}” doesn't look right.",
        "zh": "抱歉，“{{ answer }}”的格式似乎不对。",
    },
    "invalid_choice": {
        "en": "Sorry, I couldn't match “{{ answer }}” to one of the options.",
        "zh": "抱歉，没能把“{{ answer }}”对应到任何一个选项。",
    },
    "invalid_number": {
        "en": "Sorry, “{{ answer }}” is not a number.",
        "zh": "抱歉，“{{ answer }}”不是一个数字。",
    },
    "invalid_email": {
        "en": "Sorry, “{{ answer }}” is not an email address (like ana@example.com).",
        "zh": "抱歉，“{{ answer }}”不是有效的邮箱地址（例如 ana@example.com）。",
    },
    "invalid_phone": {
        "en": "Sorry, “{{ answer }}” is not a phone number.",
        "zh": "抱歉，“{{ answer }}”不是有效的电话号码。",
    },
    # A button of an older copy of a question that was asked again (or already answered).
    "expired": {
        "en": "This question has expired. Please answer the latest one.",
        "zh": "这个问题已过期，请回答最新的问题。",
    },
    # An opening (Telegram /start) when the bot has no `greet` FAQ.
    "welcome": {
        "en": "Hello! How can I help you today?",
        "zh": "您好！请问有什么可以帮您？",
    },
    # The customer dropped what a flow was asking ("never mind", "算了": dialogs.withdrawal).
    # "I have a problem", "我有个问题": a question announced, not asked yet.
    "go_ahead": {
        "en": "Of course. Tell me what it's about and I'll help.",
        "zh": "好的，请告诉我是什么问题，我来帮您。",
    },
    # "no, that's all", "好的", "没有了" after an answer: the customer is done for now.
    "closing": {
        "en": "Alright! If anything else comes up, just write here.",
        "zh": "好的！如有其他问题，随时在这里留言。",
    },
    "left_flow": {
        "en": "OK, let's leave that there. Is there anything else I can help with?",
        "zh": "好的，这件事先到这里。还有其他可以帮您的吗？",
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
