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
}

# What the workspace's script needs, handed over as a JSON data block (never as script).
SCRIPT_KEYS = (
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
