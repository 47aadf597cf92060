"""The web chat's signing secret when `FRONTDESK_WEBCHAT_SECRET` is not given: generated once
and kept in the data directory, readable by the server's user only (0600). It is what the
connector offers the store (`hub.kv.shared_secret`), which keeps the one secret every process
and machine signs with: the first offer wins, so a deployment that signed with this file
before the store kept a secret keeps its visitors.

The data directory is the SQLite store's directory when `FRONTDESK_STORE_URL` names one, else
`data/` (where the demo keeps its store); `channels.webchat.secret_file` overrides the path.
Two processes starting together agree on one secret: the file is created by an atomic link
that fails if it exists, and the loser reads the winner's.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path

log = logging.getLogger("frontdesk.connectors.webchat")

FILE_NAME = "webchat.secret"


def default_path(environ: Mapping[str, str]) -> Path:
    url = environ.get("FRONTDESK_STORE_URL", "")
    if url.startswith("sqlite:///") and url.removeprefix("sqlite:///"):
        return Path(url.removeprefix("sqlite:///")).parent / FILE_NAME
    return Path("data") / FILE_NAME


def kept_secret(path: Path) -> bytes:
    """The secret stored at `path`, created (random, 256 bits, mode 0600) when missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(32) + "\n")
        try:
            os.link(temporary, path)  # atomic: exactly one process creates it
            log.warning("generated the web chat secret and kept it in %s (mode 0600)", path)
        except FileExistsError:
            pass
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        os.chmod(path, 0o600)  # a copy made with a loose umask: make it private again
        log.warning("%s was readable by others; its mode is now 0600", path)
    text = path.read_text(encoding="ascii").strip()
    if len(text) < 32:
        raise ValueError(f"{path} does not hold a web chat secret (expected 64 hex digits)")
    return text.encode()
