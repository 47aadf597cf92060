"""Chinese sentiment from a small customer-service lexicon, with negation and intensifiers.

Text is scanned left to right taking the longest lexicon word at each position. A sentiment
word's weight is scaled by intensifiers (很, 非常, 太 …) and flipped (and damped, as in
VADER) by a negator (不, 没, 别 …) within the three words before it. The sum is normalised to
(-1, 1) the way VADER normalises its compound score, so both languages share thresholds.
"""

from __future__ import annotations

import math

POSITIVE: dict[str, float] = {
    w: 2.0
    for w in str.split(
        "好 满意 谢谢 感谢 多谢 喜欢 不错 棒 赞 优秀 完美 开心 高兴 方便 快 及时 专业 耐心 热情 "
        "解决了 搞定 顺利 成功 好用 划算 实惠 值得 推荐 靠谱 放心 周到 贴心 清楚 漂亮 准时 "
        "给力 厉害 舒服 正常 行 好的 没问题 太好了 辛苦 帮大忙 好评 五星 惊喜 稳定 流畅 "
        "友好 礼貌 细心 认真 负责 感激 愉快 省心 简单 清晰 快速 迅速 有效 管用 恢复"
    )
}
POSITIVE.update({"非常满意": 3.0, "太感谢": 3.0, "谢谢你": 2.5, "好极了": 3.0, "超赞": 3.0})

NEGATIVE: dict[str, float] = {
    w: -2.0
    for w in str.split(
        "差 烂 坏 慢 糟糕 失望 生气 愤怒 气愤 不满 投诉 垃圾 骗 骗子 欺骗 坑 坑人 恶心 "
        "麻烦 问题 故障 坏了 失败 错误 错 丢 丢失 破 破损 漏 延迟 迟到 拖 拖延 敷衍 推诿 "
        "不能接受 不兑现 裂 开错 没了 丢了 无语 郁闷 崩溃 烦 烦死 受不了 难用 卡顿 死机 断网 掉线 没反应 收不到 没收到 "
        "不到货 赔偿 欺诈 乱扣 扣费 多扣 乱收费 离谱 过分 无理 态度差 态度恶劣 不负责 "
        "忽悠 傻 蠢 可恶 着急 焦虑 担心 害怕 难过 伤心 后悔 上当 没用 差劲 糟 废物 "
        "举报 起诉 律师 差评 一星 不行 不能用 用不了 打不开 连不上 无法 失灵 异常 "
        "等了 太久 好久 一直 还没 到底 怎么回事 什么破 搞什么 凭什么 耽误 损失 冒烟 着火 "
        "紧急 急 急死"
    )
}
NEGATIVE.update(
    {
        "太差": -3.0,
        "非常失望": -3.5,
        "气死": -3.5,
        "垃圾服务": -3.5,
        "再也不": -3.0,
        "12315": -2.5,
        "消协": -2.5,
        "欺负": -2.5,
        "忍无可忍": -3.5,
    }
)
# Words that look negative but are neutral in a request ("没问题" is fine, "问一下" asks).
NEUTRALISERS = (
    "快递",
    "没问题",
    "不客气",
    "没关系",
    "不用谢",
    "问一下",
    "请问",
    "不好意思",
    "慢慢来",  # "take your time": patience, not a slow service
    "慢慢",
)

NEGATORS = ("不", "没", "没有", "别", "未", "无", "非", "不是", "并不", "从不", "毫不", "不太")
INTENSIFIERS: dict[str, float] = {
    "很": 1.3,
    "非常": 1.6,
    "太": 1.5,
    "特别": 1.5,
    "极其": 1.8,
    "十分": 1.5,
    "真": 1.3,
    "真的": 1.3,
    "超": 1.5,
    "超级": 1.6,
    "好": 1.2,
    "相当": 1.4,
    "越来越": 1.4,
    "实在": 1.4,
    "简直": 1.6,
    "完全": 1.5,
    "有点": 0.7,
    "有些": 0.7,
    "稍微": 0.6,
    "一点": 0.7,
}
_NEGATION_DAMPING = -0.74  # VADER's N_SCALAR: "not good" is less negative than "bad" is
_ALPHA = 15.0  # VADER's normalisation constant

_VOCAB: dict[str, str] = {}
for _word in POSITIVE:
    _VOCAB[_word] = "pos"
for _word in NEGATIVE:
    _VOCAB[_word] = "neg"
for _word in NEUTRALISERS:
    _VOCAB[_word] = "neutral"
for _word in NEGATORS:
    _VOCAB.setdefault(_word, "negator")
for _word in INTENSIFIERS:
    _VOCAB.setdefault(_word, "intensifier")
_LONGEST = max(len(w) for w in _VOCAB)


def tokens(text: str) -> list[tuple[str, str]]:
    """(word, kind) for every lexicon word, longest match first; other characters are
    skipped, except sentence punctuation, which ends a negation's scope."""
    found: list[tuple[str, str]] = []
    i = 0
    while i < len(text):
        for size in range(min(_LONGEST, len(text) - i), 0, -1):
            piece = text[i : i + size]
            kind = _VOCAB.get(piece)
            if kind is not None:
                found.append((piece, kind))
                i += size
                break
        else:
            # Other characters still count towards a negation's scope of three.
            found.append((text[i], "stop" if text[i] in "，。！？,.!?;；" else "other"))
            i += 1
    return found


def score(text: str) -> float:
    """Compound sentiment in (-1, 1): below zero is negative."""
    total = 0.0
    scale = 1.0
    negated = 0  # words left in the current negation's scope
    for word, kind in tokens(text):
        if kind == "stop":
            scale, negated = 1.0, 0
        elif kind == "negator":
            negated = 3
        elif kind == "intensifier":
            scale *= INTENSIFIERS[word]
        elif kind in ("pos", "neg"):
            weight = (POSITIVE if kind == "pos" else NEGATIVE)[word] * scale
            if negated:
                weight *= _NEGATION_DAMPING
            total += weight
            scale, negated = 1.0, 0
        elif negated:  # "other" characters, neutralisers
            negated -= 1
    if total > 0 and text.rstrip().endswith(("?", "？", "吗")):
        total *= 0.3  # "可以退款吗？" asks; it does not praise
    exclamations = min(text.count("!") + text.count("！"), 4)
    if total:
        total += math.copysign(0.3 * exclamations, total)
    return total / math.sqrt(total * total + _ALPHA)
