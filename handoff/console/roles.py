"""Who may do what in the console, and the languages it speaks.

Apart from `accounts.py` (which re-exports both) so that `frontdesk agents …` can declare its
`--role` and `--language` choices without importing the account stores behind it.
"""

from __future__ import annotations

import enum

LANGUAGES = ("en", "zh")


class Role(enum.StrEnum):
    """What a person may do. Each role can do everything the ones before it can."""

    AGENT = "agent"  # answers conversations
    SUPERVISOR = "supervisor"  # watches and steers the floor, sees the dashboard
    OPERATOR = "operator"  # manages accounts and integrations

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


_RANKS = {Role.AGENT: 1, Role.SUPERVISOR: 2, Role.OPERATOR: 3}
