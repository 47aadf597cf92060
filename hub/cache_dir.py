"""Where Frontdesk keeps files it can always make again (jieba's dictionary as a trie, trained
intent classifiers): `FRONTDESK_CACHE_DIR`, else `build/cache` of a source checkout, else
`frontdesk` in the system's temporary directory. A reader never trusts a file only for
being there: each cache checks what it reads (a hash in the name, the file's owner)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["cache_directory"]


def cache_directory() -> Path:
    """The cache directory (see the module's docstring); it may not exist yet."""
    configured = os.environ.get("FRONTDESK_CACHE_DIR")
    if configured:
        return Path(configured)
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "pyproject.toml").is_file():
        return checkout / "build" / "cache"
    return Path(tempfile.gettempdir()) / "frontdesk"
