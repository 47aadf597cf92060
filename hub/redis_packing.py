"""Redis commands packed by hiredis instead of redis-py's Python packer.

redis-py's asyncio connection packs every command into the Redis protocol in Python: for a
store script called with a dozen keys and arguments that is ≈ 15 µs, 5–7 % of the hub's
CPU on the Redis store (`docs/performance.md`, "Thirteenth round"). hiredis, which redis-py
already uses to read replies, packs the same command in C in ≈ 2.5 µs. The bytes are the
same (`tests/hub/test_redis_packing.py` compares them over generated commands): strings as
UTF-8, integers in decimal, floats as `repr`. What hiredis does not take (a bool, None, a
string that is not valid Unicode …) is handed to redis-py's own packer, which refuses it
exactly as before.

Only the single-server client uses it (`hub.store_redis_connect`): redis-py's cluster client
builds its nodes' connections from a class it fixes itself.
"""

from __future__ import annotations

from typing import Any

import hiredis
from redis.asyncio.connection import AbstractConnection


class HiredisPacking(AbstractConnection):
    """A connection whose `pack_command` is hiredis's (mixed in before redis-py's class)."""

    def pack_command(self, *args: Any) -> list[bytes]:
        command = args[0]
        # As redis-py does: a command name of several words ("SCRIPT LOAD", "CLIENT
        # SETNAME") is sent as separate arguments.
        if (isinstance(command, str) and " " in command) or (
            isinstance(command, bytes) and b" " in command
        ):
            args = (*command.split(), *args[1:])
        try:
            return [hiredis.pack_command(args)]
        except (TypeError, UnicodeError):
            # Not a str, bytes, int or float (or not encodable): redis-py decides, as
            # it always did (it refuses a bool or None with a `DataError`).
            return super().pack_command(*args)


_classes: dict[type[AbstractConnection], type[AbstractConnection]] = {}


def packed_by_hiredis(base: type[AbstractConnection]) -> type[AbstractConnection]:
    """`base` (a TCP, TLS or Unix socket connection class) packing through hiredis; one
    class per base, however many clients are made."""
    if base not in _classes:
        _classes[base] = type(f"Hiredis{base.__name__}", (HiredisPacking, base), {})
    return _classes[base]
