"""Attachments in the data directory (the store for an SQLite deployment: one machine).

Layout: ``<directory>/<2 hex>/<id>`` holds the bytes and ``<id>.json`` the metadata, fanned
out by the id's first two hex digits so no folder grows without bound. Each file is written
to a temporary name in the same folder, flushed to disk and renamed into place, bytes first
and metadata last: the metadata's presence is the commit, so a crash leaves either a
complete attachment or an orphan temporary file, never a reference to half a file. Ids are
checked against their pattern before any path is built, so no request can name a path.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
from pathlib import Path

from hub.attachments import AttachmentSettings, AttachmentStore, StoredAttachment


class FileAttachments(AttachmentStore):
    """`AttachmentStore` on a directory."""

    def __init__(self, directory: str | Path, settings: AttachmentSettings) -> None:
        super().__init__(settings)
        self.directory = Path(directory)

    async def open(self) -> None:
        await asyncio.to_thread(self.directory.mkdir, parents=True, exist_ok=True, mode=0o700)

    async def _keep(self, stored: StoredAttachment, data: bytes) -> None:
        await asyncio.to_thread(self._write, stored, data)

    async def _meta(self, attachment_id: str) -> StoredAttachment | None:
        return await asyncio.to_thread(self._read_meta, attachment_id)

    async def _read(self, attachment_id: str) -> bytes | None:
        return await asyncio.to_thread(self._read_bytes, attachment_id)

    # ------------------------------------------------------------------ on a worker thread
    def _folder(self, attachment_id: str) -> Path:
        return self.directory / attachment_id[4:6]

    def _write(self, stored: StoredAttachment, data: bytes) -> None:
        folder = self._folder(stored.id)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        _atomic_write(folder / stored.id, data)
        _atomic_write(folder / f"{stored.id}.json", json.dumps(stored.to_json()).encode())
        _sync_directory(folder)

    def _read_meta(self, attachment_id: str) -> StoredAttachment | None:
        path = self._folder(attachment_id) / f"{attachment_id}.json"
        try:
            return StoredAttachment.from_json(json.loads(path.read_bytes()))
        except FileNotFoundError:
            return None

    def _read_bytes(self, attachment_id: str) -> bytes | None:
        folder = self._folder(attachment_id)
        if not (folder / f"{attachment_id}.json").exists():
            return None  # bytes without metadata were never committed
        try:
            return (folder / attachment_id).read_bytes()
        except FileNotFoundError:
            return None


def _atomic_write(path: Path, data: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _sync_directory(folder: Path) -> None:
    """Make the renames themselves durable (POSIX keeps them in the directory's entry)."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


__all__ = ["FileAttachments"]
