"""Password hashing with argon2id (argon2-cffi), and the password rules.

Hashing costs tens of milliseconds of CPU on purpose (seconds on a loaded machine), so the
web side runs it on a worker thread (`asyncio.to_thread`) and never on the event loop, and
nothing here hashes at import: every process and test worker that imports the console would
pay for it.
"""

from __future__ import annotations

import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10
MAX_LENGTH = 256  # a bound on the work one login request can cause

_HASHER = PasswordHasher()  # argon2id with the library's current RFC 9106 low-memory profile

# Verified when the account does not exist, so that an unknown user name takes as long as a
# wrong password and does not reveal who has an account. Made by the first verify, on its
# worker thread; the lock makes threads that ask together wait for one hash, not make several.
_dummy: str | None = None
_dummy_lock = threading.Lock()


def _dummy_hash() -> str:
    global _dummy
    if _dummy is None:
        with _dummy_lock:
            if _dummy is None:
                _dummy = _HASHER.hash("frontdesk-no-such-account")
    return _dummy


def check_password(password: str) -> str | None:
    """What is wrong with a new password, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters long"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters long"
    if not password.strip():
        return "must not be only spaces"
    return None


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; `None` (no such account) or "" (no password set yet)
    still does the work."""
    if len(password) > MAX_LENGTH:
        return False
    # Made whoever the login names, so the first login after start costs the same for a
    # known account as for an unknown one.
    dummy = _dummy_hash()
    try:
        # An empty hash (an account seeded without a password) never matches.
        return _HASHER.verify(password_hash or dummy, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's (rehash at login)."""
    try:
        return _HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
