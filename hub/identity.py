"""One customer across channels, joined only on proof.

Five proofs join records (`hub.identity_proofs` has the pure parts):

a. a one-time code sent to the claimed address and typed back on the current channel
   (6 digits, 10 minutes, 5 attempts, rate-limited per customer and per target);
b. a Telegram contact the user shares about themself (the connector marks it ``own``);
c. a signed identity token the company's website hands to the web chat widget;
d. an operator linking or merging by hand through the API (audited);
e. an identity the channel's provider vouches for in a signed push (``raw["vouched"]``:
   WeChat's UnionID, the same person across one developer's accounts and apps).

A claim without proof ("my email is x@y") is kept as an *unverified* attribute and joins
nothing. When a proof shows that an identity already belongs to another record, the two
records merge (the older one is kept) and the merge can be undone.

Wiring: `IdentityGate` wraps the conversation owners, so codes, shared contacts and
``/link`` commands are handled before the bot sees them; connectors and the API call
`IdentityService` directly.

Two effects of a turn are not part of its commit, on purpose:

- A link or merge writes the customer directory during the turn (`IdentityService.link`),
  not the conversation log the turn commits: the directory is another port, keyed by
  customer (another Redis Cluster slot than the conversation), and a merge moves every
  conversation of the absorbed record. Linking again what is linked merges nothing; every
  link is audited and every merge can be undone (`unmerge`). If the turn's
  commit is then lost, the link stays made (it was proved); what is lost is the
  confirmation and the ``identity.linked`` event of that run, which the turn run again
  gives: it finds the code used up, and the link it made in the audit trail
  (`IdentityService.linked_by`, by `Turn.message_key`).
- A verification code goes straight to the claimed address (`ConnectorCodeSender`), not
  through the outbox: the address may have no conversation (the outbox keeps one
  conversation's replies in order), a code that arrives late is useless, so it is
  retried briefly instead of queued, and the customer is told at once when it cannot be
  sent. And a reply in the outbox is a `message.out` in the log: the code would be kept
  in clear in the log, the console's transcript and the search index, where the
  challenge keeps only its salted digest. A turn run again after a lost commit asks for a
  code again within the same rate limits; the newest code is the one that works.

Everything else a turn decides is returned in its `TurnResult` and committed with it
(docs/architecture.md, "What a turn commits, and what it writes elsewhere").
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from hub import identity_proofs as proofs
from hub.abc import ConversationHandler, Turn, TurnResult
from hub.errors import RetryLater
from hub.identity_limits import rate_key
from hub.ids import new_id
from hub.model import Customer, Delivery, Event, NewEvent, Outbound
from hub.ports import CustomerDirectory, CustomerMerge, Limits, Moved
from hub.text import detect_language

if TYPE_CHECKING:
    from hub.abc import Connector
    from hub.config import Section

log = logging.getLogger("frontdesk.identity")

UNVERIFIED = "unverified"  # customer attribute: {identity kind: [claimed identities]}
VOUCHED = "vouched"  # Inbound.raw key: an identity the provider vouches the sender holds
IDENTITY_LINKED = "identity.linked"  # conversation event of a verified link
IDENTITY_REFUSED = "identity.refused"  # a /link from a sender the channel did not verify


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentitySettings:
    """The ``identity:`` config section."""

    continuity_window: float = 24 * 3600.0
    code_ttl: float = 600.0
    code_attempts: int = 5
    codes_per_customer_per_hour: int = 5
    codes_per_target_per_hour: int = 3
    widget_secret: bytes = b""  # FRONTDESK_IDENTITY_SECRET
    reply_to: str = "last"  # or "preferred": the customer's preferred_channel attribute

    @classmethod
    def from_section(cls, section: Section, environ: Mapping[str, str]) -> IdentitySettings:
        settings = cls(
            continuity_window=section.get_float("continuity_window", 24 * 3600.0),
            code_ttl=section.get_float("code_ttl", 600.0, minimum=30.0),
            code_attempts=section.get_int("code_attempts", 5, minimum=1, maximum=20),
            codes_per_customer_per_hour=section.get_int(
                "codes_per_customer_per_hour", 5, minimum=1, maximum=1000
            ),
            codes_per_target_per_hour=section.get_int(
                "codes_per_target_per_hour", 3, minimum=1, maximum=1000
            ),
            widget_secret=environ.get("FRONTDESK_IDENTITY_SECRET", "").encode(),
            reply_to=section.get_str("reply_to", "last", choices=("last", "preferred")),
        )
        section.reject_unknown()
        return settings


# ------------------------------------------------------------------ code delivery


class CodeSender(Protocol):
    """Delivers a one-time code to the address being claimed."""

    async def send(self, target_identity: str, code: str, language: str) -> None: ...


@dataclass(slots=True)
class CapturingCodeSender:
    """Keeps codes instead of sending them (tests, the demo)."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)

    async def send(self, target_identity: str, code: str, language: str) -> None:
        self.sent.append((target_identity, code, language))

    def last_code(self, target_identity: str) -> str:
        return next(code for who, code, _ in reversed(self.sent) if who == target_identity)


CODE_TEXT = {
    "en": "Your Frontdesk verification code is {code}. It expires in 10 minutes. "
    "If you did not ask for it, ignore this message.",
    "zh": "您的验证码是 {code}，10 分钟内有效。如果不是您本人操作，请忽略此消息。",
}


class ConnectorCodeSender:
    """Sends the code through the channel of the target identity (``email:…`` through the
    email connector, ``telegram:…`` through Telegram, ``phone:…`` through the channel that
    declares it in `Connector.code_identities`, i.e. SMS). It calls the connector directly,
    outside any conversation: the target may have none, and a code that is late is useless,
    so it retries only briefly instead of queueing in the outbox."""

    def __init__(self, connectors: Mapping[str, Connector], *, attempts: int = 3) -> None:
        self.connectors = connectors
        self.attempts = attempts

    async def send(self, target_identity: str, code: str, language: str) -> None:
        channel, _, address = target_identity.partition(":")
        connector = self.connectors.get(channel) or next(
            (c for c in self.connectors.values() if channel in c.code_identities), None
        )
        if connector is None:
            raise proofs.IdentityError(f"codes cannot be sent to {channel} addresses here")
        text = CODE_TEXT.get(language, CODE_TEXT["en"]).format(code=code)
        delivery = Delivery(
            id=new_id("dlv"),
            conversation_id="",
            seq=0,
            channel=connector.name,
            address=address,
            thread_hint="",
            outbound=Outbound(text=text),
            created_at=time.time(),
        )
        for attempt in range(self.attempts):
            try:
                await connector.deliver(delivery)
                return
            except RetryLater:
                if attempt + 1 == self.attempts:
                    raise


# ------------------------------------------------------------------ the service


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkResult:
    """A verified identity now belongs to `customer_id` (after `merge`, if one was needed)."""

    customer_id: str
    identity: str
    merge: CustomerMerge | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeCheck:
    """What typing a code achieved: `linked` on success, else the reason in `problem`."""

    linked: LinkResult | None = None
    problem: str = ""  # wrong | locked
    attempts_left: int = 0


def _hashed(text: str) -> str:
    # Rate-limit keys outlive erasure by a window; they must not spell an address.
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class IdentityRecords(CustomerDirectory, Limits, Protocol):
    """What the identity service reads and writes: the directory, and the limits that
    count code requests and guesses."""


class IdentityService:
    """Verification, linking, merging, profile and privacy on top of the customer
    directory and the limits."""

    def __init__(
        self,
        store: IdentityRecords,
        *,
        sender: CodeSender | None = None,
        settings: IdentitySettings | None = None,
        clock: Callable[[], float] = time.time,
        publish: Callable[[Sequence[Event]], None] = lambda events: None,
    ) -> None:
        self.store = store
        self.sender: CodeSender = sender or CapturingCodeSender()
        self.settings = settings or IdentitySettings()
        self.clock = clock
        # The event bus's publish (`Hub.publish_order`): a merge logs an event in every
        # conversation it moves, outside any turn, and nothing else announces them.
        self.publish = publish

    # -- (unverified) claims
    async def note_claim(self, customer_id: str, identity: str) -> None:
        """Remember what the customer says is theirs; it joins nothing."""
        customer = await self.store.get_customer(customer_id)
        if customer is None or identity in customer.identities:
            return
        kind = identity.partition(":")[0]
        claims = dict(customer.attributes.get(UNVERIFIED) or {})
        known = list(claims.get(kind) or [])
        if identity not in known:
            claims[kind] = [*known, identity][-5:]
            await self.store.update_customer(
                customer_id, attributes={UNVERIFIED: claims}, now=self.clock()
            )

    # -- (a) one-time codes
    async def request_code(self, customer_id: str, target: str, *, language: str = "en") -> str:
        """Send a code to `target` for `customer_id` to type back. Returns "sent",
        "already_linked" or "rate_limited"."""
        target = proofs.normalize_identity(target)
        customer = await self.store.get_customer(customer_id)
        if customer is None:
            raise KeyError(customer_id)
        if target in customer.identities:
            return "already_linked"
        await self.note_claim(customer_id, target)
        now, hour = self.clock(), 3600.0
        per_customer = await self.store.count_hit(f"code:c:{customer_id}", window=hour, now=now)
        per_target = await self.store.count_hit(
            f"code:t:{_hashed(rate_key(target))}", window=hour, now=now
        )
        if (
            per_customer > self.settings.codes_per_customer_per_hour
            or per_target > self.settings.codes_per_target_per_hour
        ):
            log.info("verification code rate-limited", extra={"customer_id": customer_id})
            return "rate_limited"
        code, salt = proofs.new_code(), proofs.new_salt()
        challenge = {"target": target, "salt": salt, "digest": proofs.code_digest(code, salt)}
        await self.store.put_challenge(
            customer_id, challenge, expires_at=now + self.settings.code_ttl
        )
        await self.sender.send(target, code, language)
        return "sent"

    async def check_code(
        self, customer_id: str, code: str, *, message: str = ""
    ) -> CodeCheck | None:
        """Try a typed code; None when the customer has no live challenge (so the message
        is an ordinary one). `message` (`Turn.message_key`) is kept with the link's proof:
        `linked_by` finds it again."""
        challenge = await self.store.attempt_challenge(customer_id, now=self.clock())
        if challenge is None:
            return None
        attempts = int(challenge["attempts"])
        budget = self.settings.code_attempts
        if attempts > budget:
            await self.store.drop_challenge(customer_id)
            return CodeCheck(problem="locked")
        if not proofs.code_matches(code, str(challenge["salt"]), str(challenge["digest"])):
            if attempts >= budget:
                await self.store.drop_challenge(customer_id)
                return CodeCheck(problem="locked")
            return CodeCheck(problem="wrong", attempts_left=budget - attempts)
        await self.store.drop_challenge(customer_id)
        proof = {"kind": "code", "actor": "customer", **({"message": message} if message else {})}
        linked = await self.link(customer_id, str(challenge["target"]), proof=proof)
        return CodeCheck(linked=linked)

    async def linked_by(self, customer_id: str, message: str) -> LinkResult | None:
        """The link a code typed in `message` made, if one did (from the audit trail): a
        turn run again after its commit was lost finds the code used up, and answers with
        the link instead of passing the code on as an ordinary message."""
        for entry in reversed(await self.store.audit_trail(customer_id)):
            proof = entry.get("proof")
            if entry.get("action") != "identity.linked" or not isinstance(proof, Mapping):
                continue
            if proof.get("message") == message:
                merge_id = entry.get("merge_id")
                merge = await self.store.get_merge(merge_id) if merge_id else None
                return LinkResult(
                    customer_id=customer_id, identity=str(entry["identity"]), merge=merge
                )
        return None

    # -- (b) Telegram shared contact
    async def accept_shared_contact(
        self, customer_id: str, raw: Mapping[str, Any]
    ) -> LinkResult | None:
        """Link the phone number of a contact the user shared *about themself*."""
        contact = raw.get("contact")
        if not isinstance(contact, Mapping) or contact.get("own") is not True:
            return None
        try:
            phone = proofs.normalize_identity(f"phone:{contact.get('phone', '')}")
        except proofs.IdentityError:
            return None
        return await self.link(customer_id, phone, proof={"kind": "telegram_contact"})

    # -- (e) an identity the provider vouches for
    async def accept_vouched(
        self, customer: Customer, raw: Mapping[str, Any], *, channel: str
    ) -> LinkResult | None:
        """Link the identity a connector read from its provider's signed message
        (``raw["vouched"]``), unless the customer already holds it."""
        vouched = raw.get(VOUCHED)
        if not isinstance(vouched, str) or not vouched:
            return None
        try:
            identity = proofs.normalize_identity(vouched)
        except proofs.IdentityError:
            log.warning("vouched identity not usable", extra={"channel": channel})
            return None
        if identity in customer.identities:
            return None
        return await self.link(
            customer.id, identity, proof={"kind": "provider", "channel": channel}
        )

    # -- (c) signed widget identity token
    async def accept_widget_token(self, identity: str, token: str) -> LinkResult:
        """Link a web chat visitor (``webchat:v_…``) to the website's user the token vouches
        for (``user:<id>``, plus ``email:…`` when given). `IdentityError` when the token is
        not good."""
        vouched = proofs.verify_widget_token(self.settings.widget_secret, token, now=self.clock())
        customer, _ = await self.store.ensure_customer(identity, now=self.clock())
        proof = {"kind": "widget_token", "expires_at": vouched.expires_at}
        result = await self.link(
            customer.id, proofs.normalize_identity(f"user:{vouched.user_id}"), proof=proof
        )
        if vouched.email:
            email = proofs.normalize_identity(f"email:{vouched.email}")
            second = await self.link(result.customer_id, email, proof=proof)
            result = replace(second, merge=second.merge or result.merge)
        return result

    # -- linking and merging (every proof ends here)
    async def link(
        self, customer_id: str, identity: str, *, proof: Mapping[str, Any]
    ) -> LinkResult:
        """Give a *verified* identity to the customer, merging with its owner if it has one."""
        identity = proofs.normalize_identity(identity)
        now = self.clock()
        owner = await self.store.add_identity(customer_id, identity, now=now)
        if owner is None:
            raise KeyError(customer_id)
        merge = None
        if owner != customer_id:
            first = await self.store.get_customer(customer_id)
            second = await self.store.get_customer(owner)
            if first is None or second is None:
                raise KeyError(customer_id if first is None else owner)
            kept, absorbed = sorted((first, second), key=lambda c: (c.created_at, c.id))
            reason = {**dict(proof), "identity_kind": identity.partition(":")[0]}
            merge = await self.merge(kept.id, absorbed.id, reason=reason, actor="")
            owner = kept.id
        await self._forget_claim(owner, identity)
        entry = {"action": "identity.linked", "proof": dict(proof), "identity": identity}
        if merge is not None:
            entry["merge_id"] = merge.id
        await self.store.append_audit(owner, entry, now=now)
        return LinkResult(customer_id=owner, identity=identity, merge=merge)

    async def _forget_claim(self, customer_id: str, identity: str) -> None:
        customer = await self.store.get_customer(customer_id)
        claims = dict((customer.attributes.get(UNVERIFIED) or {}) if customer else {})
        kind = identity.partition(":")[0]
        if identity in (claims.get(kind) or []):
            claims[kind] = [c for c in claims[kind] if c != identity]
            if not claims[kind]:
                del claims[kind]
            await self.store.update_customer(
                customer_id, attributes={UNVERIFIED: claims or None}, now=self.clock()
            )

    def _announce(self, moved: Moved) -> None:
        for event in moved.events:  # one conversation each: a batch each
            self.publish((event,))

    async def merge(
        self, kept_id: str, absorbed_id: str, *, reason: Mapping[str, Any], actor: str
    ) -> CustomerMerge:
        moved = await self.store.record_merge(
            kept_id, absorbed_id, reason={**dict(reason), "actor": actor}, now=self.clock()
        )
        self._announce(moved)
        merge = moved.merge
        await self.store.append_audit(
            kept_id,
            {"action": "customer.merged", "merge_id": merge.id, "absorbed_id": absorbed_id},
            now=self.clock(),
        )
        log.info(
            "customers merged",
            extra={"merge_id": merge.id, "kept_id": kept_id, "absorbed_id": absorbed_id},
        )
        return merge

    async def unmerge(self, merge_id: str, *, actor: str) -> CustomerMerge | None:
        moved = await self.store.record_unmerge(merge_id, now=self.clock())
        if moved is None:
            return None
        self._announce(moved)
        for customer_id in (moved.merge.kept_id, moved.merge.absorbed_id):
            await self.store.append_audit(
                customer_id,
                {"action": "customer.unmerged", "merge_id": merge_id, "actor": actor},
                now=self.clock(),
            )
        return moved.merge


# ------------------------------------------------------------------ the gate before the bot

REPLIES: dict[str, dict[str, str]] = {
    "en": {
        "sent": "We sent a 6-digit code to {target}. Type it here to link it to this chat.",
        "already_linked": "{target} is already linked to you.",
        "rate_limited": "Too many codes were requested. Please try again in an hour.",
        "invalid": "That does not look like an email address or phone number: {problem}",
        "unavailable": "Sorry, we cannot send a code to that address right now.",
        "linked": "Thanks, {target} is now linked. We will recognise you there too.",
        "wrong": "That code is not right. You have {left} more tries.",
        "locked": "That code is no longer valid. Ask for a new one with /link <address>.",
        "contact": "Thanks, your phone number {target} is now linked.",
    },
    "zh": {
        "sent": "我们已向 {target} 发送了 6 位验证码，请在这里输入，即可把它与本次对话关联。",
        "already_linked": "{target} 已经关联到您的账户。",
        "rate_limited": "验证码请求次数过多，请一小时后再试。",
        "invalid": "“{typed}”看起来不像邮箱地址或手机号码（手机号请带国家代码，如 +86 138 0013 8000）。",
        "unavailable": "抱歉，暂时无法向该地址发送验证码。",
        "linked": "谢谢，{target} 已关联。以后您从那里联系我们，我们也能认出您。",
        "wrong": "验证码不正确，您还可以再试 {left} 次。",
        "locked": "该验证码已失效。请发送 /link <地址> 获取新的验证码。",
        "contact": "谢谢，您的手机号码 {target} 已关联。",
    },
}


class IdentityGate(ConversationHandler):
    """Handles identity messages before the conversation's owner sees them: a code typed
    back while one is pending, a Telegram contact shared about oneself, ``/link <address>``.
    Everything else goes to `inner` (claims in it are noted on the way)."""

    def __init__(self, inner: ConversationHandler, service: IdentityService) -> None:
        self.inner = inner
        self.service = service

    async def start(self) -> None:
        await self.inner.start()

    async def stop(self) -> None:
        await self.inner.stop()

    async def handle(self, turn: Turn) -> TurnResult:
        vouched: LinkResult | None = None
        try:
            if turn.inbound.sender_verified:
                vouched = await self.service.accept_vouched(
                    turn.customer, turn.inbound.raw, channel=turn.inbound.channel
                )
            answer = await self._identity_turn(turn)
        except Exception:
            # Identity trouble must not cost the customer their answer.
            log.exception("identity gate failed", extra={"conversation_id": turn.conversation.id})
            answer = None
        result = answer if answer is not None else await self.inner.handle(turn)
        if vouched is None:
            return result
        # Linked silently: the customer asked nothing; the log says what was joined.
        return replace(result, events=(*result.events, *_linked_events(vouched)))

    async def _identity_turn(self, turn: Turn) -> TurnResult | None:
        if not turn.inbound.sender_verified:
            return _unverified_sender_turn(turn)
        service, customer, text = self.service, turn.customer, turn.inbound.text
        language = _language(turn)
        linked = await service.accept_shared_contact(customer.id, turn.inbound.raw)
        if linked is not None:
            return _reply("contact", language, linked, target=linked.identity.partition(":")[2])
        code = proofs.code_at_start(text)
        if code is not None:
            check = await service.check_code(customer.id, code, message=turn.message_key)
            # No code pending: perhaps this very message used it up, in a run whose commit
            # was lost.
            linked = (
                await service.linked_by(customer.id, turn.message_key)
                if check is None
                else check.linked
            )
            if linked is not None:
                return _reply("linked", language, linked, target=linked.identity.partition(":")[2])
            if check is not None:
                return _reply(check.problem, language, None, left=check.attempts_left)
        target = proofs.link_command(text)
        if target is not None:
            return await self._start_link(customer, target, language)
        for claim in proofs.find_claims(text):
            await service.note_claim(customer.id, claim)
        return None

    async def _start_link(self, customer: Customer, typed: str, language: str) -> TurnResult:
        try:
            target = proofs.guess_identity(typed)
        except proofs.IdentityError as error:
            return _reply("invalid", language, None, problem=str(error), typed=typed)
        try:
            outcome = await self.service.request_code(customer.id, target, language=language)
        except Exception:
            log.warning("verification code could not be sent", exc_info=True)
            outcome = "unavailable"
        return _reply(outcome, language, None, target=target.partition(":")[2])


def _unverified_sender_turn(turn: Turn) -> TurnResult | None:
    """A sender the channel could not authenticate (a forged From:) proves nothing: no
    code is sent or checked, no contact linked, no claim noted, nothing merged. A
    ``/link`` is not answered at all (the answer would go to the forged address) and
    is logged for the agents instead; anything else goes to the bot as usual."""
    if proofs.link_command(turn.inbound.text) is None:
        return None
    refused = NewEvent(type=IDENTITY_REFUSED, data={"reason": "sender-not-verified"})
    return TurnResult(replies=(), events=(refused,))


def _language(turn: Turn) -> str:
    """The language to answer in: this message's own, with the command, code and address
    left out (`/link a@b.com` says nothing of it); else the conversation's, as the bot
    last saw it; else the customer's; else English."""
    text = turn.inbound.text
    code = proofs.code_at_start(text)
    if proofs.link_command(text) is not None:
        text = ""
    elif code is not None:
        text = text.strip()[len(code) :]
    previous = turn.conversation.state.get("lang") or turn.customer.attributes.get("language")
    return detect_language(text, previous=str(previous or "en"), languages=("en", "zh"))


def _linked_events(linked: LinkResult) -> tuple[NewEvent, ...]:
    data = {"identity_kind": linked.identity.partition(":")[0], "customer_id": linked.customer_id}
    if linked.merge is not None:
        data["merge_id"] = linked.merge.id
    return (NewEvent(type=IDENTITY_LINKED, data=data),)


def _reply(key: str, language: str, linked: LinkResult | None, **values: Any) -> TurnResult:
    events = _linked_events(linked) if linked is not None else ()
    text = REPLIES.get(language, REPLIES["en"])[key].format(**values)
    return TurnResult(replies=(Outbound(text=text),), events=events)
