"""Hot reload: notice edited dialog files and ask for a reload, without a file-watch library.

Polling a handful of small files twice a second costs nothing and works the same on every
platform and inside containers (where inotify on bind mounts is unreliable).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from pathlib import Path

from dialogs.yamlsource import dialog_files
from hub.periodic import Periodic

Snapshot = dict[str, tuple[int, int]]
#: Which files under a path make up what is watched (the dialogs' YAML by default).
Lister = Callable[[Path], list[Path]]


def snapshot(path: Path, files_of: Lister = dialog_files) -> Snapshot:
    """(mtime in ns, size) of every watched file; a vanished folder is an empty snapshot."""
    found: Snapshot = {}
    try:
        files = files_of(path)
    except OSError:
        return found
    for file in files:
        try:
            stat = file.stat()
        except OSError:
            continue  # removed between listing and stat: the next poll sees it
        found[str(file)] = (stat.st_mtime_ns, stat.st_size)
    return found


class Watch:
    """Call `on_change` after the files under `path` change, from `start` until `stop`.

    A change is acted on once two polls agree, so an editor's write-then-rename or a
    `git checkout` of several files is reloaded once, whole. Pass `initial` (taken when the
    files were loaded) so that an edit made before the first poll is not missed.

    The polls run in a `hub.periodic.Periodic`: `on_change` may announce on the bus (Redis),
    where a cancel can be swallowed, and the watcher must still stop, within a bound.
    A failed `on_change` is logged and the watcher goes on: the old bot keeps serving.
    """

    def __init__(
        self,
        name: str,
        path: Path,
        on_change: Callable[[], Awaitable[None]],
        *,
        interval: float = 0.4,
        initial: Snapshot | None = None,
        files_of: Lister = dialog_files,
    ) -> None:
        self.path = path
        self.on_change = on_change
        self.interval = interval
        self.files_of = files_of
        self._last = initial if initial is not None else snapshot(path, files_of)
        self._polls = Periodic(name, self._poll, interval, first=False)

    def start(self) -> None:
        self._polls.start()

    async def stop(self) -> None:
        await self._polls.stop()

    async def _poll(self) -> None:
        current = await asyncio.to_thread(snapshot, self.path, self.files_of)
        if current == self._last:
            return
        await asyncio.sleep(self.interval / 2)
        settled = await asyncio.to_thread(snapshot, self.path, self.files_of)
        if settled != current:
            return  # still being written; look again next round
        self._last = settled
        await self.on_change()


def content_hash(path: Path, files_of: Lister = dialog_files) -> str:
    """A digest of the watched files' names (relative to `path`) and bytes: equal on every
    machine that holds the same files, whatever their mtimes. "" for a missing folder."""
    digest = hashlib.sha256()
    try:
        files = sorted(files_of(path))
    except OSError:
        return ""
    for file in files:
        try:
            body = file.read_bytes()
        except OSError:
            continue  # removed since listing: the next reload reads what is there
        name = file.relative_to(path) if file.is_relative_to(path) else file
        digest.update(f"{name.as_posix()}\0{len(body)}\0".encode())
        digest.update(body)
    return digest.hexdigest()
