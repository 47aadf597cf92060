"""Where Frontdesk keeps files it can always make again (jieba's dictionary as a trie, trained
intent classifiers): `FRONTDESK_CACHE_DIR`, else `build/cache` of a source checkout, else
`frontdesk` in the system's temporary directory. A reader never trusts a file only for
being there: each cache checks what it reads (a hash in the name, the file's owner)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["cache_directory", "write_aside"]


def cache_directory() -> Path:
    """The cache directory (see the module's docstring); it may not exist yet."""
    configured = os.environ.get("FRONTDESK_CACHE_DIR")
    if configured:
        return Path(configured)
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "pyproject.toml").is_file():
        return checkout / "build" / "cache"
    return Path(tempfile.gettempdir()) / "frontdesk"


def write_aside(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Write `data` to `path` through a temporary file in its directory (made if missing)
    and a rename, so a process reading meanwhile gets the old file or none, never half of
    one. A cache needs no fsync: a file lost to a crash is made again. Raises OSError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
