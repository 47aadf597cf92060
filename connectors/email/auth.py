"""Is the ``From:`` of this mail authentic? The decision, and nothing else (pure).

Anyone can write ``From: ana@example.com``. A mail is *authenticated* when its ``From:``
domain is vouched for in one of two ways, like DMARC does it:

1. A trusted receiving MTA said so. Frontdesk usually sits behind the support domain's
   own mail server, which checks SPF, DKIM and DMARC and records the outcome in an
   ``Authentication-Results`` header (RFC 8601). Only headers whose authserv-id is in
   `trusted_authserv_ids` count: anyone can *write* that header into a mail, and that
   MTA removes copies claiming its own id from incoming mail (RFC 8601 section 5).
   ``dmarc=pass`` authenticates, ``dmarc=fail`` does not; without a DMARC result, an
   aligned ``dkim=pass`` (``header.d``) or ``spf=pass`` (``smtp.mailfrom``) does.
2. Otherwise Frontdesk checks the DKIM signatures itself (dkimpy; the DNS lookup is
   passed in, so tests use a dict of TXT records), and one that verifies must be
   *aligned*: its ``d=`` domain is the ``From:`` domain or a parent or child of it
   (relaxed alignment). SPF cannot be checked here — the envelope's connecting IP is the
   MTA's, not the sender's — so without a trusted MTA only DKIM counts.

The connector turns a failed verdict into an *unverified sender* (`Inbound.sender_verified`
False), which the hub keeps apart from the customer that address belongs to.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import compat32
from email.utils import getaddresses

import authres  # type: ignore[import-untyped]
import dkim  # type: ignore[import-untyped]
from dkim.util import parse_tag_value  # type: ignore[import-untyped]

log = logging.getLogger("frontdesk.connectors.email")

POLICIES = ("require", "flag", "off")
#: name (bytes, e.g. b"s1._domainkey.example.com.") → the TXT record, or None
DnsLookup = Callable[..., bytes | str | None]
MAX_SIGNATURES = 5  # each costs a DNS lookup; a mail with dozens is not a customer's


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthSettings:
    """``channels.email.sender_auth`` and ``trusted_authserv_ids``."""

    policy: str = "require"  # require | flag | off
    trusted_authserv_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthVerdict:
    """Whether the ``From:`` domain is authenticated, how we know, and why not."""

    authenticated: bool
    method: str  # "authentication-results", "dkim", "none"
    reason: str  # what decided it, for agents and the log ("dmarc=pass", "no signature" …)
    domain: str = ""  # the From: domain the verdict is about

    def to_json(self) -> dict[str, object]:
        return {
            "authenticated": self.authenticated,
            "method": self.method,
            "reason": self.reason,
            "domain": self.domain,
        }


def authenticate(
    data: bytes,
    *,
    trusted_authserv_ids: Iterable[str] = (),
    dns: DnsLookup | None = None,
) -> AuthVerdict:
    """The verdict on one message, from its source `data`.

    Blocking when it verifies DKIM (DNS lookups): call it in a worker thread.
    """
    # Raw values, encoded-words still encoded: a display name that decodes to a comma or
    # to an address must not change which address the From: names.
    parsed = BytesParser(policy=compat32).parsebytes(data, headersonly=True)
    headers = [(str(name), str(value)) for name, value in parsed.items()]
    from_values = [value for name, value in headers if name.lower() == "from"]
    domain = _from_domain(from_values)
    if not domain:
        return AuthVerdict(
            authenticated=False, method="none", reason="From: must name exactly one address"
        )
    trusted = {authserv.lower() for authserv in trusted_authserv_ids}
    if trusted:
        results = [value for name, value in headers if name.lower() == "authentication-results"]
        return _from_results(results, trusted, domain)
    return _from_dkim(data, domain, dns)


def aligned(domain: str, other: str) -> bool:
    """Relaxed alignment: the same domain, or one a parent of the other (DMARC ``adkim=r``
    without the public-suffix list: signing for a parent needs control of its DNS)."""
    domain, other = domain.lower().rstrip("."), other.lower().rstrip(".")
    if not domain or not other:
        return False
    return domain == other or domain.endswith("." + other) or other.endswith("." + domain)


def _from_domain(values: list[str]) -> str:
    if len(values) != 1:
        return ""
    addresses = [address for _, address in getaddresses(values) if address]
    addresses = [address for address in addresses if "@" in address]
    if len(addresses) != 1 or addresses[0].count("@") != 1:
        return ""
    return addresses[0].rpartition("@")[2].lower()


def _from_results(results: list[str], trusted: set[str], domain: str) -> AuthVerdict:
    """Trusted ``Authentication-Results`` only; DMARC first, then aligned DKIM or SPF."""
    dmarc, dkim_pass, spf_pass = "", False, False
    seen = False
    for value in results:
        try:
            header = authres.AuthenticationResultsHeader.parse_value(value)
        except Exception:  # authres raises its own SyntaxError and friends on bad input
            continue
        if str(header.authserv_id).lower() not in trusted:
            continue  # written by the sender or an untrusted hop: ignore it
        seen = True
        for result in header.results:
            method, outcome = str(result.method).lower(), str(result.result).lower()
            props = {f"{p.type}.{p.name}".lower(): str(p.value) for p in result.properties}
            if method == "dmarc" and not dmarc:
                from_domain = props.get("header.from", domain)
                dmarc = outcome if aligned(from_domain, domain) else "other-domain"
            elif method == "dkim" and outcome == "pass":
                dkim_pass = dkim_pass or aligned(props.get("header.d", ""), domain)
            elif method == "spf" and outcome == "pass":
                mailfrom = props.get("smtp.mailfrom", "").rpartition("@")[2]
                spf_pass = spf_pass or aligned(mailfrom, domain)
    verdict = "authentication-results"
    if not seen:
        return AuthVerdict(
            authenticated=False,
            method=verdict,
            reason="no trusted Authentication-Results",
            domain=domain,
        )
    if dmarc == "pass":
        return AuthVerdict(authenticated=True, method=verdict, reason="dmarc=pass", domain=domain)
    if dmarc and dmarc not in ("none", "other-domain"):
        return AuthVerdict(
            authenticated=False, method=verdict, reason=f"dmarc={dmarc}", domain=domain
        )
    if dkim_pass or spf_pass:
        how = "dkim=pass aligned" if dkim_pass else "spf=pass aligned"
        return AuthVerdict(authenticated=True, method=verdict, reason=how, domain=domain)
    return AuthVerdict(authenticated=False, method=verdict, reason="no aligned pass", domain=domain)


def _from_dkim(data: bytes, domain: str, dns: DnsLookup | None) -> AuthVerdict:
    """Verify the DKIM signatures; the first that passes and is aligned authenticates."""
    try:
        checker = dkim.DKIM(data, minkey=1024, timeout=5)
        signatures = [value for name, value in checker.headers if name.lower() == b"dkim-signature"]
    except Exception:  # an unparseable message has no valid signature
        signatures = []
    count = len(signatures)
    if not count:
        return AuthVerdict(authenticated=False, method="dkim", reason="no signature", domain=domain)
    reasons = []
    for index in range(min(count, MAX_SIGNATURES)):
        try:
            ok = checker.verify(idx=index, dnsfunc=dns) if dns else checker.verify(idx=index)
        except Exception as error:  # dkimpy raises on malformed signatures and DNS trouble
            reasons.append(f"signature {index + 1}: {type(error).__name__}")
            continue
        signer = (checker.domain or b"").decode("ascii", "replace")
        if ok and _covers_part_of_the_body(signatures[index]):
            # l= signs only the first bytes: anyone may append their own text below.
            reasons.append(f"d={signer}: l= leaves the body unsigned")
            continue
        if ok and aligned(signer, domain):
            return AuthVerdict(
                authenticated=True, method="dkim", reason=f"dkim=pass d={signer}", domain=domain
            )
        reasons.append(f"d={signer}: " + ("not aligned" if ok else "fail"))
    return AuthVerdict(
        authenticated=False, method="dkim", reason="; ".join(reasons)[:300], domain=domain
    )


def _covers_part_of_the_body(signature: bytes) -> bool:
    try:
        return b"l" in parse_tag_value(signature)
    except Exception:  # dkimpy verified it, so it parses; be safe anyway
        return True


__all__ = ["POLICIES", "AuthSettings", "AuthVerdict", "DnsLookup", "aligned", "authenticate"]
