"""The console's words in English and Chinese. Templates call `t(key)`."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

STRINGS: dict[str, dict[str, str]] = {
    "title": {"en": "Frontdesk console", "zh": "Frontdesk 客服工作台"},
    "login.heading": {"en": "Sign in", "zh": "登录"},
    "login.username": {"en": "User name", "zh": "用户名"},
    "login.password": {"en": "Password", "zh": "密码"},
    "login.submit": {"en": "Sign in", "zh": "登录"},
    "login.failed": {"en": "Wrong user name or password.", "zh": "用户名或密码错误。"},
    "login.throttled": {
        "en": "Too many failed attempts. Wait a little, then try again.",
        "zh": "登录失败次数过多，请稍候再试。",
    },
    "login.expired": {
        "en": "The form expired. Please try again.",
        "zh": "表单已过期，请重试。",
    },
    "logout": {"en": "Sign out", "zh": "退出"},
    "nav": {"en": "Console", "zh": "工作台导航"},
    "nav.workspace": {"en": "Workspace", "zh": "工作区"},
    "nav.supervisor": {"en": "Supervisor", "zh": "主管视图"},
    "role.agent": {"en": "Agent", "zh": "客服"},
    "role.supervisor": {"en": "Supervisor", "zh": "主管"},
    "role.operator": {"en": "Operator", "zh": "管理员"},
    "lang.switch": {"en": "中文", "zh": "English"},
    "forbidden": {"en": "You do not have access to this page.", "zh": "您无权访问此页面。"},
    "notfound.title": {"en": "Page not found", "zh": "页面不存在"},
    "notfound.text": {"en": "There is no console page at", "zh": "工作台中没有这个页面："},
    "notfound.back": {"en": "Back to the workspace", "zh": "返回工作区"},
    "presence": {"en": "Presence", "zh": "状态"},
    "presence.online": {"en": "Online", "zh": "在线"},
    "presence.away": {"en": "Away", "zh": "离开"},
    "presence.offline": {"en": "Offline", "zh": "离线"},
    "mine": {"en": "My conversations", "zh": "我的会话"},
    "queue": {"en": "Queue", "zh": "排队中"},
    "empty": {"en": "Nothing here.", "zh": "暂无内容。"},
    "pick": {"en": "Pick a conversation on the left.", "zh": "请在左侧选择一个会话。"},
    "summary": {"en": "Summary", "zh": "摘要"},
    "timeline": {"en": "Timeline", "zh": "时间线"},
    "profile": {"en": "Customer", "zh": "客户资料"},
    "past": {"en": "Conversations", "zh": "历史会话"},
    "reply.placeholder": {
        "en": "Reply to the customer — Enter sends, Shift+Enter adds a line",
        "zh": "回复客户 — 回车发送，Shift+回车换行",
    },
    "note.placeholder": {
        "en": "Internal note for the team — never sent to the customer",
        "zh": "内部备注 — 不会发送给客户",
    },
    "as_note": {"en": "Internal note", "zh": "内部备注"},
    "canned": {"en": "Canned responses", "zh": "快捷回复"},
    "unverified": {"en": "sender not verified", "zh": "发件人未验证"},
    "send": {"en": "Send", "zh": "发送"},
    "accept": {"en": "Accept", "zh": "接入"},
    "take": {"en": "Take", "zh": "接手"},
    "transfer": {"en": "Transfer", "zh": "转接"},
    "transfer.to": {"en": "Agent id or skill:", "zh": "转接给（客服 ID 或技能）："},
    "resolve": {"en": "Resolve", "zh": "解决"},
    "handback": {"en": "Hand back to bot", "zh": "交回机器人"},
    "reassign": {"en": "Reassign", "zh": "重新分配"},
    "waiting": {"en": "waiting", "zh": "已等待"},
    "left": {"en": "left", "zh": "剩余"},
    "overdue": {"en": "overdue", "zh": "已超时"},
    "new_assignment": {"en": "New conversation", "zh": "新会话"},
    "who": {"en": "Who", "zh": "客户"},
    "what": {"en": "What", "zh": "诉求"},
    "feeling": {"en": "Mood", "zh": "情绪"},
    "key": {"en": "Key sentences", "zh": "关键语句"},
    "error": {"en": "That did not work:", "zh": "操作失败："},
    "floor": {"en": "The floor", "zh": "现场"},
    "by_skill": {"en": "Waiting per skill", "zh": "各技能排队"},
    "agents": {"en": "Agents", "zh": "客服"},
    "assigned": {"en": "With agents", "zh": "处理中"},
    "alerts": {"en": "SLA alerts", "zh": "SLA 告警"},
    "dashboard": {"en": "Dashboard", "zh": "数据看板"},
    "chart.by_channel": {"en": "Conversations by channel", "zh": "各渠道会话数"},
    "chart.top_intents": {"en": "Top intents", "zh": "热门意图"},
    "chart.no_intent": {"en": "(none)", "zh": "（无）"},
    "chart.times": {"en": "Response times", "zh": "响应时长"},
    "chart.first_median": {"en": "first, median", "zh": "首次响应中位数"},
    "chart.first_p90": {"en": "first, p90", "zh": "首次响应 P90"},
    "chart.resolve_median": {"en": "resolve, median", "zh": "解决时长中位数"},
    "chart.resolve_p90": {"en": "resolve, p90", "zh": "解决时长 P90"},
    "unit.min": {"en": "min", "zh": "分钟"},
    "gauge.containment": {"en": "Bot containment", "zh": "机器人独立解决率"},
    "gauge.handoff_rate": {"en": "Hand-off rate", "zh": "转人工率"},
    "gauge.sla": {"en": "SLA attainment", "zh": "SLA 达成率"},
    "gauge.csat": {"en": "CSAT satisfied", "zh": "满意率"},
    "filter": {"en": "Apply", "zh": "筛选"},
    "range": {"en": "Time range", "zh": "时间范围"},
    "channel": {"en": "Channel", "zh": "渠道"},
    "agent": {"en": "Agent", "zh": "客服"},
    "intent": {"en": "Intent", "zh": "意图"},
    "all": {"en": "all", "zh": "全部"},
    "conversations": {"en": "Conversations", "zh": "会话数"},
    "csat": {"en": "CSAT", "zh": "满意度"},
    "nps": {"en": "NPS", "zh": "净推荐值"},
    "first_response": {"en": "First response", "zh": "首次响应"},
    "resolution": {"en": "Resolution", "zh": "解决时长"},
    "edit": {"en": "Edit", "zh": "编辑"},
    "edit_agent": {"en": "Routing profile of", "zh": "路由设置："},
    "skills": {"en": "Skills (comma-separated)", "zh": "技能（逗号分隔）"},
    "languages": {"en": "Languages", "zh": "语言"},
    "capacity": {"en": "Capacity", "zh": "同时接待上限"},
    "team": {"en": "Team", "zh": "团队"},
    "save": {"en": "Save", "zh": "保存"},
    "saved": {"en": "Saved.", "zh": "已保存。"},
    "language.en": {"en": "English", "zh": "英语"},
    "language.zh": {"en": "Chinese", "zh": "中文"},
    "sla": {"en": "SLA", "zh": "SLA 时限"},
    "median_p90": {"en": "(median / p90)", "zh": "（中位数 / P90）"},
    "unit.h": {"en": "h", "zh": "小时"},
    "unit.m": {"en": "m", "zh": "分"},
    "unit.s": {"en": "s", "zh": "秒"},
    "sla.pickup": {"en": "pickup", "zh": "接入时限"},
    "sla.resolve": {"en": "resolve", "zh": "解决时限"},
    # --- reports (hotspots, unanswered questions, volume and staffing)
    "nav.reports": {"en": "Reports", "zh": "报表"},
    "reports": {"en": "Reports", "zh": "报表"},
    "report.hotspots": {"en": "Complaint hotspots", "zh": "投诉热点"},
    "report.unanswered": {"en": "Unanswered questions", "zh": "未解答问题"},
    "report.volume": {"en": "Volume and staffing", "zh": "话务量与排班"},
    "report.days": {"en": "Days", "zh": "天数"},
    "report.show": {"en": "Show", "zh": "查看"},
    "report.csv": {"en": "Download CSV", "zh": "下载 CSV"},
    "report.hotspots.hint": {
        "en": "Hand-offs and complaints by reason and by the words customers used, each week "
        "beside the week before.",
        "zh": "按原因和客户用词统计的转人工与投诉，每周与上一周对比。",
    },
    "report.week_of": {"en": "Week of", "zh": "周起始日"},
    "report.before": {"en": "week before", "zh": "上周"},
    "report.reason": {"en": "Reason", "zh": "原因"},
    "report.word": {"en": "Word", "zh": "关键词"},
    "report.count": {"en": "Count", "zh": "数量"},
    "report.conversations": {"en": "Conversations", "zh": "会话"},
    "report.unanswered.hint": {
        "en": "Lines the bot could not answer or whose article did not help, grouped by what "
        "they ask: candidates for new intents or articles. Lines",
        "zh": "机器人未能解答或文章未能帮到客户的问题，按内容分组，可作为新增意图或文章的依据。问题数",
    },
    "report.copy_yaml": {"en": "Copy as YAML intent", "zh": "复制为 YAML 意图"},
    "report.copied": {"en": "Copied.", "zh": "已复制。"},
    "report.volume.hint": {
        "en": "Incoming conversations by weekday and hour, in the time zone",
        "zh": "按星期和小时统计的进线会话，时区",
    },
    "report.heatmap": {"en": "Conversations by weekday and hour", "zh": "各时段会话量"},
    "report.forecast": {"en": "Forecast, next 7 days by hour", "zh": "未来 7 天逐小时预测"},
    "report.method.holt-winters": {
        "en": "Holt-Winters (weekly season)",
        "zh": "Holt-Winters 模型（周季节性）",
    },
    "report.method.weekly average": {
        "en": "Average of each hour of the week (less than two weeks of history)",
        "zh": "按周内各小时取平均（历史不足两周）",
    },
    "report.mae": {"en": "mean error per hour", "zh": "每小时平均误差"},
    "report.backtest": {"en": "back-test error on the last week", "zh": "上周回测误差"},
    "report.staffing": {"en": "Agents needed", "zh": "所需客服人数"},
    "report.staffing.hint": {
        "en": "Erlang C for the service level",
        "zh": "按 Erlang C 计算，服务水平目标",
    },
    "report.handle": {"en": "handle time", "zh": "平均处理时长"},
    "report.hour": {"en": "Hour", "zh": "时段"},
    "report.expected": {"en": "Expected conversations", "zh": "预计会话数"},
    "report.agents": {"en": "Agents", "zh": "客服人数"},
    "report.followups": {"en": "Follow-ups", "zh": "回访"},
    "report.followups.hint": {
        "en": "Follow-ups after resolution, each week: questions sent and call-back tasks, "
        "and what the customers said. Solved share is of those who answered.",
        "zh": "每周的解决后回访：发送的回访问题和回访任务，以及客户的答复。解决率按已答复的计算。",
    },
    "followup.sent": {"en": "Asked", "zh": "已发送"},
    "followup.tasks": {"en": "Call-back tasks", "zh": "回访任务"},
    "followup.skipped": {"en": "Skipped", "zh": "已跳过"},
    "followup.solved": {"en": "Solved", "zh": "已解决"},
    "followup.unsolved": {"en": "Not solved (reopened)", "zh": "未解决（已重开）"},
    "followup.opted_out": {"en": "Opted out", "zh": "拒绝回访"},
    "followup.unreachable": {"en": "Unreachable", "zh": "联系不上"},
    "followup.no_answer": {"en": "No answer", "zh": "未答复"},
    "followup.waiting": {"en": "Waiting", "zh": "等待中"},
    "followup.solved_share": {"en": "Solved share", "zh": "解决率"},
    "followup.open_tasks": {"en": "Open call-back tasks", "zh": "待处理回访任务"},
    "nav.followups": {"en": "Follow-ups", "zh": "回访"},
    "followups.title": {"en": "My follow-up calls", "zh": "我的回访任务"},
    "followups.hint": {
        "en": "Customers to call back about a resolved conversation. Record what came of it.",
        "zh": "需要针对已解决会话回访的客户。回访后请记录结果。",
    },
    "followups.ticket": {"en": "Ticket", "zh": "工单"},
    "followups.agent": {"en": "Agent", "zh": "客服"},
    "followups.resolved": {"en": "Resolved", "zh": "解决时间"},
    "followups.rating": {"en": "Rating", "zh": "评分"},
    "followups.outcome": {"en": "Outcome", "zh": "结果"},
    "followups.note": {"en": "Note", "zh": "备注"},
    "followups.record": {"en": "Record", "zh": "记录"},
    "day.0": {"en": "Mon", "zh": "周一"},
    "day.1": {"en": "Tue", "zh": "周二"},
    "day.2": {"en": "Wed", "zh": "周三"},
    "day.3": {"en": "Thu", "zh": "周四"},
    "day.4": {"en": "Fri", "zh": "周五"},
    "day.5": {"en": "Sat", "zh": "周六"},
    "day.6": {"en": "Sun", "zh": "周日"},
    # --- agent assist
    "assist": {"en": "Suggested for this conversation", "zh": "本会话推荐"},
    "assist.insert": {"en": "Insert", "zh": "插入"},
    "assist.article": {"en": "Article", "zh": "文章"},
    "assist.canned": {"en": "Canned", "zh": "快捷回复"},
    # --- quality inspection (抽检)
    "nav.qa": {"en": "Quality", "zh": "质检"},
    "qa.trend": {"en": "Scores over time (weekly average)", "zh": "质检得分趋势（周平均）"},
    "qa.by_team": {"en": "By team", "zh": "按团队"},
    "qa.by_agent": {"en": "By agent", "zh": "按客服"},
    "qa.team": {"en": "Team", "zh": "团队"},
    "qa.week": {"en": "Week of", "zh": "周起始日"},
    "qa.agreement_items": {
        "en": "Reviewer agreement by rubric item (conversations two reviewers scored)",
        "zh": "各评分项的质检员一致性（两位质检员评过的会话）",
    },
    "qa.item": {"en": "Item", "zh": "评分项"},
    "qa.pairs": {"en": "Pairs", "zh": "对数"},
    "qa.exact": {"en": "Same score", "zh": "评分一致"},
    "qa.title": {"en": "Quality inspection", "zh": "质量抽检"},
    "qa.sampled": {"en": "Sampled conversations", "zh": "抽中的会话"},
    "qa.days": {"en": "days", "zh": "天数"},
    "qa.waiting": {"en": "Waiting for your review", "zh": "待您评审"},
    "qa.day": {"en": "Day", "zh": "日期"},
    "qa.agent": {"en": "Agent", "zh": "客服"},
    "qa.channel": {"en": "Channel", "zh": "渠道"},
    "qa.why": {"en": "Why sampled", "zh": "抽检原因"},
    "qa.review": {"en": "Review", "zh": "评审"},
    "qa.reason.percent": {"en": "Random share", "zh": "随机抽样"},
    "qa.reason.complaint": {"en": "Complaint", "zh": "投诉"},
    "qa.reason.low_csat": {"en": "Low CSAT", "zh": "满意度低"},
    "qa.reason.sla_breached": {"en": "SLA breached", "zh": "超出 SLA"},
    "qa.scores": {"en": "Quality score per agent", "zh": "客服质检得分"},
    "qa.reviews": {"en": "Reviews", "zh": "评审数"},
    "qa.average": {"en": "Average", "zh": "平均分"},
    "qa.agreement": {"en": "Reviewer agreement", "zh": "评审一致率"},
    "qa.difference": {"en": "mean difference", "zh": "平均分差"},
    "qa.done": {"en": "Reviews", "zh": "评审记录"},
    "qa.mine": {"en": "Reviews of my conversations", "zh": "我的会话评审"},
    "qa.reviewer": {"en": "Reviewer", "zh": "评审人"},
    "qa.total": {"en": "Score", "zh": "得分"},
    "qa.comment": {"en": "Comment", "zh": "评语"},
    "qa.back": {"en": "← Quality inspection", "zh": "← 质量抽检"},
    "qa.transcript": {"en": "Transcript", "zh": "会话记录"},
    "qa.who.customer": {"en": "Customer", "zh": "客户"},
    "qa.who.agent": {"en": "Agent", "zh": "客服"},
    "qa.who.bot": {"en": "Bot", "zh": "机器人"},
    "qa.checks": {"en": "What the log already says", "zh": "自动预检"},
    "qa.check.no_greeting": {
        "en": "No greeting in the agent's first message",
        "zh": "客服首句未问候",
    },
    "qa.check.long_silences": {"en": "Long agent silences", "zh": "客服长时间未回复"},
    "qa.check.negative_at_end": {"en": "Customer negative at the end", "zh": "结束时客户情绪负面"},
    "qa.check.sla_breached": {"en": "SLA breached", "zh": "超出 SLA"},
    "qa.check.low_csat": {"en": "Low CSAT", "zh": "满意度低"},
    "qa.rubric": {"en": "Rubric", "zh": "评分项"},
    "qa.save": {"en": "Save review", "zh": "保存评审"},
    "qa.saved": {"en": "Saved. Score:", "zh": "已保存。得分："},
    # Working a conversation, notifications and shortcuts (compose.js, notify.js, shortcuts.js)
    "typing.customer": {"en": "Customer is typing…", "zh": "客户正在输入…"},
    "canned.none": {"en": "No canned response matches.", "zh": "没有匹配的快捷回复。"},
    "resolve.pending": {"en": "Resolving in {n} s…", "zh": "{n} 秒后解决…"},
    "undo": {"en": "Undo", "zh": "撤销"},
    "notify.offer": {"en": "New conversation for you", "zh": "有新会话分配给您"},
    "notify.message": {"en": "New message from your customer", "zh": "您的客户发来新消息"},
    "notify.mention": {"en": "{who} mentioned you in a note", "zh": "{who} 在备注中提到了您"},
    "notify.sla": {"en": "SLA about to breach", "zh": "SLA 即将超时"},
    "notify.enable": {"en": "Enable desktop notifications", "zh": "开启桌面通知"},
    "shortcuts.title": {"en": "Keyboard shortcuts", "zh": "键盘快捷键"},
    "shortcuts.next": {"en": "Next conversation", "zh": "下一个会话"},
    "shortcuts.previous": {"en": "Previous conversation", "zh": "上一个会话"},
    "shortcuts.take": {"en": "Take or accept", "zh": "接手或接受"},
    "shortcuts.reply": {"en": "Write a reply", "zh": "回复客户"},
    "shortcuts.note": {"en": "Write an internal note", "zh": "写内部备注"},
    "shortcuts.resolve": {"en": "Resolve", "zh": "解决"},
    "shortcuts.transfer": {"en": "Transfer", "zh": "转接"},
    "shortcuts.help": {"en": "Show this help", "zh": "显示此帮助"},
    "shortcuts.close": {"en": "Close", "zh": "关闭"},
}

# Conversation list and search (the workspace's left column, `static/inbox.js`).
INBOX_STRINGS: dict[str, dict[str, str]] = {
    "inbox": {"en": "Conversations", "zh": "会话列表"},
    "inbox.all": {"en": "All", "zh": "全部"},
    "inbox.filters": {"en": "Filters", "zh": "筛选"},
    "inbox.any": {"en": "Any", "zh": "不限"},
    "inbox.more": {"en": "Show more", "zh": "加载更多"},
    "inbox.unread": {"en": "messages waiting for a reply", "zh": "条消息待回复"},
    "inbox.clear": {"en": "Clear filters", "zh": "清除筛选"},
    "filter.status": {"en": "Status", "zh": "状态"},
    "filter.priority": {"en": "Priority", "zh": "优先级"},
    "filter.skill": {"en": "Skill", "zh": "技能"},
    "filter.language": {"en": "Language", "zh": "语言"},
    "filter.agent": {"en": "Agent id", "zh": "客服 ID"},
    "status.queued": {"en": "Waiting", "zh": "排队中"},
    "status.offered": {"en": "Offered", "zh": "待接入"},
    "status.assigned": {"en": "Assigned", "zh": "处理中"},
    "from.customer": {"en": "Customer", "zh": "客户"},
    "from.agent": {"en": "Agent", "zh": "客服"},
    "from.bot": {"en": "Bot", "zh": "机器人"},
    "from.reply": {"en": "Reply", "zh": "回复"},
    "from.note": {"en": "Note", "zh": "备注"},
    "from.ticket": {"en": "Ticket", "zh": "工单"},
    "search": {"en": "Search", "zh": "搜索"},
    "search.placeholder": {
        "en": "Search conversations, messages, customers",
        "zh": "搜索会话、消息、客户",
    },
    "search.none": {"en": "No matches.", "zh": "没有找到匹配的结果。"},
    "search.customers": {"en": "Customers", "zh": "客户"},
    "search.messages": {"en": "Messages", "zh": "消息"},
    "search.not_open": {"en": "not an open hand-off", "zh": "非进行中的人工会话"},
    "search.close": {"en": "Close search", "zh": "关闭搜索"},
}
STRINGS.update(INBOX_STRINGS)

# What the workspace's script needs, handed over as a JSON data block (never as script).
SCRIPT_KEYS: tuple[str, ...] = (
    "assist.insert",
    "assist.article",
    "assist.canned",
    "mine",
    "queue",
    "empty",
    "pick",
    "summary",
    "timeline",
    "profile",
    "past",
    "reply.placeholder",
    "note.placeholder",
    "send",
    "accept",
    "take",
    "transfer",
    "transfer.to",
    "resolve",
    "handback",
    "reassign",
    "waiting",
    "left",
    "overdue",
    "new_assignment",
    "who",
    "what",
    "feeling",
    "key",
    "error",
    "canned",
    "presence.online",
    "presence.away",
    "presence.offline",
    "edit",
    "saved",
    "unverified",
    "unit.h",
    "unit.m",
    "unit.s",
    "sla.pickup",
    "sla.resolve",
    # working a conversation and notifications
    "canned.none",
    "resolve.pending",
    "notify.offer",
    "notify.message",
    "notify.mention",
    "notify.sla",
)

SCRIPT_KEYS += (*INBOX_STRINGS, "channel", "team", "language.en", "language.zh")


# -- the contact panel and the supervisor's tools (join, whisper, reassign with a reason,
#    each agent's conversations, the dashboard's drill-down)
STRINGS.update(
    {
        "contact": {"en": "Contact", "zh": "联系人"},
        "contact.none": {
            "en": "Open a conversation to see its customer.",
            "zh": "打开会话以查看客户资料。",
        },
        "contact.name": {"en": "Name", "zh": "姓名"},
        "contact.identities": {"en": "Identities", "zh": "身份"},
        "contact.verified": {"en": "verified", "zh": "已验证"},
        "contact.claimed": {"en": "claimed", "zh": "自称"},
        "contact.tags": {"en": "Tags", "zh": "标签"},
        "contact.tag_add": {"en": "New tag", "zh": "新标签"},
        "contact.add": {"en": "Add", "zh": "添加"},
        "contact.remove": {"en": "Remove", "zh": "移除"},
        "contact.crm": {"en": "CRM fields", "zh": "CRM 字段"},
        "contact.crm_id": {"en": "CRM id", "zh": "CRM 编号"},
        "contact.attributes": {"en": "Attributes", "zh": "属性"},
        "contact.key": {"en": "Name of the attribute", "zh": "属性名"},
        "contact.value": {"en": "Value", "zh": "值"},
        "contact.notes": {"en": "Notes on the customer", "zh": "客户备注"},
        "contact.note_add": {"en": "A note on the customer", "zh": "添加客户备注"},
        "contact.add_note": {"en": "Add note", "zh": "添加备注"},
        "contact.merge": {"en": "Possibly the same person", "zh": "可能是同一人"},
        "contact.merge.same_mailbox": {"en": "same mailbox", "zh": "同一邮箱"},
        "contact.merge.crm": {"en": "the CRM lists this identity", "zh": "CRM 记录了此身份"},
        "contact.none_found": {"en": "None", "zh": "无"},
        "contact.filter": {"en": "Filter by words", "zh": "按文字筛选"},
        "contact.open": {"en": "Read", "zh": "查看"},
        "contact.current": {"en": "this one", "zh": "当前会话"},
        "contact.messages": {"en": "messages", "zh": "条消息"},
        "close": {"en": "Close", "zh": "关闭"},
        "read_only": {"en": "Read only", "zh": "只读"},
        "whisper": {"en": "Whisper to the agent", "zh": "悄悄话（仅客服可见）"},
        "whisper.send": {"en": "Whisper", "zh": "发送悄悄话"},
        "whisper.label": {"en": "whisper", "zh": "悄悄话"},
        "join": {"en": "Join", "zh": "加入会话"},
        "joined": {"en": "You joined this conversation", "zh": "您已加入此会话"},
        "reassign.reason": {"en": "Reason", "zh": "原因"},
        "reassign.to": {"en": "Reassign to", "zh": "重新分配给"},
        "open_conversation": {"en": "Open", "zh": "打开"},
        "floor.conversations": {"en": "Open conversations", "zh": "进行中的会话"},
        "drill": {"en": "Conversations behind the figure", "zh": "该数字对应的会话"},
        "drill.handed_off": {"en": "Handed off", "zh": "转人工"},
        "drill.contained": {"en": "Bot only", "zh": "机器人独立解决"},
        "drill.sla_breached": {"en": "SLA breached", "zh": "超出 SLA"},
        "drill.csat": {"en": "CSAT answers", "zh": "满意度回复"},
        "created": {"en": "Started", "zh": "开始时间"},
    }
)
SCRIPT_KEYS += (
    "contact.verified",
    "contact.claimed",
    "contact.remove",
    "contact.crm_id",
    "contact.merge.same_mailbox",
    "contact.merge.crm",
    "contact.none_found",
    "contact.open",
    "contact.current",
    "contact.messages",
    "read_only",
    "whisper.label",
    "joined",
    "open_conversation",
    "drill",
    "reassign.reason",
    "floor.conversations",
)


def script_strings(language: str) -> dict[str, str]:
    t = translator(language)
    return {key: t(key) for key in SCRIPT_KEYS}


def pick_language(request: web.Request, default: str) -> str:
    """For pages before login: the browser's preference, else the configured default."""
    for part in request.headers.get("Accept-Language", "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return default


def translator(language: str) -> Callable[[str], str]:
    def t(key: str) -> str:
        entry = STRINGS.get(key)
        if entry is None:
            return key
        return entry.get(language) or entry["en"]

    return t


# --- WhatsApp channel: the 24-hour customer-service window (connectors/whatsapp) ---
STRINGS.update(
    {
        "channel.window_closes": {
            "en": "WhatsApp window closes in {hours} h",
            "zh": "WhatsApp 会话窗口 {hours} 小时后关闭",
        },
        "channel.window_closed": {
            "en": "WhatsApp window closed: replies go as templates or are parked",
            "zh": "WhatsApp 会话窗口已关闭：回复将以模板发送，否则暂存待处理",
        },
    }
)
SCRIPT_KEYS += ("channel.window_closes", "channel.window_closed")

# ------------------------------------------------------------------ attachments (files)
STRINGS.update(
    {
        "attach": {"en": "Attach files", "zh": "添加附件"},
        "attach.remove": {"en": "Remove", "zh": "移除"},
        "attach.failed": {"en": "File not sent:", "zh": "文件未发送："},
        "unit.kb": {"en": "KB", "zh": "KB"},
        "unit.mb": {"en": "MB", "zh": "MB"},
    }
)
SCRIPT_KEYS += ("attach", "attach.remove", "attach.failed", "unit.kb", "unit.mb")

# --- WeChat channel: the 48-hour customer-service window (connectors/wechat) ---
STRINGS.update(
    {
        "channel.wechat_window_closes": {
            "en": "WeChat window closes in {hours} h",
            "zh": "微信客服消息窗口 {hours} 小时后关闭",
        },
        "channel.wechat_window_closed": {
            "en": "WeChat window closed: replies are parked until the customer writes again",
            "zh": "微信客服消息窗口已关闭：回复将暂存，待客户再次发消息后才能发送",
        },
    }
)
SCRIPT_KEYS += ("channel.wechat_window_closes", "channel.wechat_window_closed")

# --- SMS channel: carrier rules (connectors/sms) ---
STRINGS.update(
    {
        "channel.sms_text_only": {
            "en": "SMS: text only; long replies are shortened, choices become a numbered list",
            "zh": "短信：仅限文字；过长的回复会被截短，选项以编号列表发送",
        },
        "channel.sms_opted_out": {
            "en": "SMS: the customer texted STOP; replies are parked until they text START",
            "zh": "短信：客户已回复退订（STOP）；在其回复 START 之前，回复将暂存不发送",
        },
    }
)
SCRIPT_KEYS += ("channel.sms_text_only", "channel.sms_opted_out")

# --- the read-only view: a search result that is no open hand-off (closed, bot-only …) ---
STRINGS.update(
    {
        "conversation.bot": {"en": "With the bot only", "zh": "仅机器人接待"},
        "conversation.queued": {"en": "Waiting for an agent", "zh": "等待人工"},
        "conversation.assigned": {"en": "With an agent", "zh": "人工处理中"},
        "conversation.resolved": {"en": "Closed", "zh": "已结束"},
        "search.read": {"en": "read only", "zh": "只读"},
        "ticket": {"en": "Ticket", "zh": "工单"},
        "read.hint": {
            "en": "Read only: this conversation is not an open hand-off of yours.",
            "zh": "只读：此会话不是您正在处理的人工会话。",
        },
    }
)
SCRIPT_KEYS += (
    "conversation.bot",
    "conversation.queued",
    "conversation.assigned",
    "conversation.resolved",
    "search.read",
    "read.hint",
    "created",
    "ticket",
)
