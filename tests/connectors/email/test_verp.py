"""VERP return paths: only a bounce to a token we signed, quoting our mail, is ours."""

from __future__ import annotations

from connectors.email.parse import parse_mail
from connectors.email.threading import own_message_id
from connectors.email.verp import Verp
from tests.connectors.email.harness import fixture

VERP = Verp(secret=b"s3cret", local_part="bounces", domain="example.com")
ROOT = "CAJ1xK2fQm7yH8b0rder1042=pA@mail.gmail.com"
OURS = own_message_id(delivery_id="dlv_1", root=ROOT, domain="example.com")


def bounce(message_id: str = OURS, failed: str = "ana.lima@gmail.com") -> bytes:
    data = fixture("bounce.eml").decode("ascii")
    data = data.replace(
        data[data.index("Message-ID: <fd.") :].split("\n", 1)[0], f"Message-ID: {message_id}"
    )
    return data.replace("ana.lima@gmail.com", failed).encode("ascii")


def owner(data: bytes, to: str) -> tuple[str, str] | None:
    mail = parse_mail(data, domain="example.com", envelope_sender="", envelope_recipients=(to,))
    return VERP.owner(data, mail.recipients, list(mail.raw["failed_recipients"]))


def test_a_bounce_to_our_return_path_names_the_customer_and_thread() -> None:
    path = VERP.return_path(OURS, "ana.lima@gmail.com")
    assert len(path.partition("@")[0]) <= 64
    assert owner(bounce(), path) == ("ana.lima@gmail.com", ROOT)


def test_anything_else_is_not_ours() -> None:
    path = VERP.return_path(OURS, "ana.lima@gmail.com")
    assert owner(bounce(), "support@example.com") is None  # no token: In-Reply-To is not proof
    forged_token = path.replace(path[8:14], "aaaaaa")
    assert owner(bounce(), forged_token) is None
    other = Verp(secret=b"another", local_part="bounces", domain="example.com")
    assert owner(bounce(), other.return_path(OURS, "ana.lima@gmail.com")) is None
    # The token of one mail does not vouch for a bounce quoting another …
    second = own_message_id(delivery_id="dlv_2", root="other@x", domain="example.com")
    assert owner(bounce(second), path) is None
    # … nor for a different customer.
    assert owner(bounce(failed="bo@example.org"), path) is None
