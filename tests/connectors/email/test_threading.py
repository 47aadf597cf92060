"""Pure threading: headers → the thread root; our Message-IDs and plus-addresses."""

from __future__ import annotations

from connectors.email.threading import (
    message_ids,
    own_message_id,
    plus_address,
    plus_token,
    reply_references,
    root_from_own,
    thread_of,
    token_in,
)

ROOT = "CAJ1xK2fQm7yH8b0rder1042=pA@mail.gmail.com"


def test_message_ids_are_extracted_with_or_without_brackets() -> None:
    assert message_ids("<a@x> <b@y>\r\n <c@z>") == ["a@x", "b@y", "c@z"]
    assert message_ids("a@x") == ["a@x"]
    assert message_ids("(comment) <a@x>") == ["a@x"]
    assert message_ids(None) == [] and message_ids("") == []


def test_our_message_ids_carry_the_thread_root() -> None:
    own = own_message_id(delivery_id="dlv_0190abc", root=ROOT, domain="example.com")
    assert own.startswith("<fd.dlv_0190abc.") and own.endswith("@example.com>")
    assert root_from_own(own[1:-1], "example.com") == ROOT
    assert root_from_own(own[1:-1], "other.example") is None
    assert root_from_own("fd.x.!!!@example.com", "example.com") is None


def test_a_new_message_is_its_own_root() -> None:
    ref = thread_of(message_id="new@x", in_reply_to=None, references=None, domain="example.com")
    assert (ref.root, ref.source) == ("new@x", "new")


def test_in_reply_to_one_of_ours_wins() -> None:
    own = own_message_id(delivery_id="d1", root=ROOT, domain="example.com")
    ref = thread_of(message_id="m@x", in_reply_to=own, references="<other@y>", domain="example.com")
    assert (ref.root, ref.source) == (ROOT, "in-reply-to:own")


def test_references_are_searched_right_to_left_for_ours_then_the_first_is_the_root() -> None:
    older = own_message_id(delivery_id="d1", root="old-root@x", domain="example.com")
    newer = own_message_id(delivery_id="d2", root=ROOT, domain="example.com")
    ref = thread_of(
        message_id="m@x",
        in_reply_to="<someone-else@y>",
        references=f"<first@x> {older} {newer} <someone-else@y>",
        domain="example.com",
    )
    assert (ref.root, ref.source) == (ROOT, "references:own")
    plain = thread_of(
        message_id="m@x", in_reply_to="<p@y>", references="<first@x> <p@y>", domain="example.com"
    )
    assert (plain.root, plain.source) == ("first@x", "references")
    only_parent = thread_of(
        message_id="m@x", in_reply_to="<p@y>", references=None, domain="example.com"
    )
    assert (only_parent.root, only_parent.source) == ("p@y", "in-reply-to")


def test_plus_address_token_round_trip() -> None:
    address = plus_address("support@example.com", ROOT)
    assert address == f"support+{plus_token(ROOT)}@example.com"
    assert len(address.partition("@")[0]) <= 64  # fits a mail address's local part
    assert token_in(["x@y.org", address.upper()], "support@example.com") == plus_token(ROOT)
    assert token_in(["support+short@example.com"], "support@example.com") is None
    assert token_in([f"sales+{plus_token(ROOT)}@example.com"], "support@example.com") is None


def test_reply_references_keep_the_root_and_the_newest() -> None:
    assert reply_references(["a", "b"], "c") == ["a", "b", "c"]
    assert reply_references(["a", "c"], "c") == ["a", "c"]
    chain = reply_references([f"r{i}" for i in range(30)], "parent", keep=5)
    assert chain == ["r0", "r27", "r28", "r29", "parent"]
