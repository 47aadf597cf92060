"""The peer's FAQ: two intents matched by regular expressions, one reply each.

The same questions the Frontdesk side of `bench/webchat_vs_peer.py` asks, answered the way
opsdroid's own examples answer (`match_regex` searching the text, `message.respond`).
"""

from opsdroid.matchers import match_regex
from opsdroid.skill import Skill


class FaqSkill(Skill):
    @match_regex(
        r"(opening hours|营业时间|open)", case_sensitive=False, matching_condition="search"
    )
    async def opening_hours(self, message):
        await message.respond("We are open Monday to Saturday, 9:00-18:00.")

    @match_regex(
        r"(refund|退货|退款|points|积分)", case_sensitive=False, matching_condition="search"
    )
    async def refunds(self, message):
        await message.respond("You can return an item within 30 days for a full refund.")
