"""VERP return paths: a bounce is ours only if it comes back to an address we made (pure).

Every reply leaves with the envelope sender ``bounces+<token>@<domain>``, where the token
is an HMAC (secret from the environment) of that reply's Message-ID and recipient. A
real bounce is sent to the envelope sender, so it arrives addressed to that token, and it
quotes the reply's headers. A bounce is filed in a customer's conversation only when both
agree: the token in its recipient verifies for one of our Message-IDs it quotes and an
address it names. `In-Reply-To` alone proves nothing: anyone can write it, and a forged
"bounce" would otherwise put attacker-written text in the victim's conversation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from email.utils import getaddresses

from connectors.email.threading import root_from_own

TOKEN_LENGTH = 26  # base32 characters: 130 bits, and the local part stays under 64
_TOKEN = re.compile(f"[a-z2-7]{{{TOKEN_LENGTH}}}")
_TO_LINE = re.compile(rb"^To:[ \t]*(.{1,998})$", re.MULTILINE | re.IGNORECASE)


@dataclass(frozen=True, slots=True, kw_only=True)
class Verp:
    """The return-path scheme of one support address."""

    secret: bytes
    local_part: str  # "bounces"
    domain: str  # "example.com"

    def return_path(self, message_id: str, recipient: str) -> str:
        """The envelope sender of the reply `message_id` (brackets or not) to `recipient`."""
        return f"{self.local_part}+{self.token(message_id, recipient)}@{self.domain}"

    def token(self, message_id: str, recipient: str) -> str:
        text = f"{message_id.strip('<>')}\n{recipient.strip().lower()}".encode()
        digest = hmac.new(self.secret, text, hashlib.sha256).digest()
        return base64.b32encode(digest).decode("ascii")[:TOKEN_LENGTH].lower()

    def token_in(self, recipients: tuple[str, ...] | list[str]) -> str | None:
        """The token of the first recipient ``<local_part>+<token>@<domain>``, if any."""
        for address in recipients:
            user, _, host = address.strip().lower().rpartition("@")
            head, plus, token = user.partition("+")
            ours = plus and head == self.local_part.lower() and host == self.domain.lower()
            if ours and _TOKEN.fullmatch(token):
                return token
        return None

    def owner(
        self, data: bytes, recipients: tuple[str, ...] | list[str], failed: list[str]
    ) -> tuple[str, str] | None:
        """(customer address, thread root) of a genuine bounce of one of our replies, or
        None when the return path is not one we made for a message it quotes."""
        token = self.token_in(recipients)
        if token is None:
            return None
        domain = re.escape(self.domain).encode()
        own_ids = {
            match.group(1).decode("ascii", "replace")
            for match in re.finditer(rb"<(fd\.[!-;=?-~]+@" + domain + rb")>", data, re.I)
        }
        addresses = [address.lower() for address in failed]
        for line in _TO_LINE.findall(data):
            addresses += [a.lower() for _, a in getaddresses([line.decode("utf-8", "replace")])]
        for message_id in sorted(own_ids):
            for address in dict.fromkeys(addresses):
                if hmac.compare_digest(self.token(message_id, address), token):
                    root = root_from_own(message_id, self.domain)
                    if root:
                        return address, root
        return None


__all__ = ["TOKEN_LENGTH", "Verp"]
