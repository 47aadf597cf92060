"""The attachment store: sniffing, limits and storage on both backends (real redis-server)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from hub.attachments import (
    AttachmentRefused,
    AttachmentSettings,
    AttachmentStore,
    clean_name,
    plain_name,
    sniff,
)
from hub.attachments_fs import FileAttachments
from hub.attachments_redis import RedisAttachments
from hub.config import Section
from hub.errors import ConfigError
from hub.model import Attachment, Inbound
from hub.stores import attachments_beside
from tests.attachment_samples import HTML_AS_PNG, SVG, pdf, png

SMALL = AttachmentSettings(max_bytes=2048, daily_quota_bytes=5000)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (png(), "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
        (b"GIF89a\x01\x00\x01\x00", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (pdf(), "application/pdf"),
        ("发票 no. 42\nthanks\n".encode(), "text/plain"),
        (b"\xef\xbb\xbfhello", "text/plain"),
        (HTML_AS_PNG, "text/html"),
        (SVG, "text/html"),
        (b"  <html><body>hi</body></html>", "text/html"),
        (b"notes\n<script>steal()</script>", "text/html"),
        (b"OggS\x00\x02\x00\x00opus", "audio/ogg"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", "audio/mpeg"),
        (b"\xff\xfb\x90\x64\x00", "audio/mpeg"),
        (b"\xff\xf1\x50\x80\x02", "audio/aac"),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", "audio/mp4"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00", "application/octet-stream"),  # a video
        (b"#!AMR\n\x3c", "audio/amr"),
        (b"\x00\x01\x02binary", "application/octet-stream"),
        (b"\xff\xfe\xfa not utf-8", "application/octet-stream"),
    ],
)
def test_sniffing_reads_the_bytes(data: bytes, expected: str) -> None:
    assert sniff(data) == expected


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd", "a/b.png", "c:\\x.pdf", "..", ".htaccess", "a\x00b", "x\u202egnp.exe"],
)
def test_names_that_point_elsewhere_are_refused(name: str) -> None:
    with pytest.raises(AttachmentRefused) as refused:
        clean_name(name)
    assert refused.value.status == 400
    assert refused.value.message_zh


def test_plain_names_are_kept_and_channel_names_are_reduced() -> None:
    assert clean_name(" 发票.pdf ") == "发票.pdf"
    assert clean_name("invoice 2026.pdf") == "invoice 2026.pdf"
    assert plain_name("../../etc/发票.pdf", "file") == "发票.pdf"
    assert plain_name("..", "photo.jpg") == "photo.jpg"


def test_settings_from_config_refuse_unsafe_types() -> None:
    with pytest.raises(ConfigError, match="text/html"):
        AttachmentSettings.from_section(
            Section({"allowed_types": ["text/html"]}, path="f.yaml", key="attachments")
        )
    settings = AttachmentSettings.from_section(
        Section({"max_bytes": 4096, "allowed_types": ["image/png"]}, path="f.yaml")
    )
    assert settings.max_bytes == 4096 and settings.allowed_types == {"image/png"}


def test_the_store_goes_with_the_configured_store(tmp_path: Path) -> None:
    fs = attachments_beside(f"sqlite:///{tmp_path}/data/fd.db", SMALL)
    assert isinstance(fs, FileAttachments) and fs.directory == tmp_path / "data" / "attachments"
    assert isinstance(attachments_beside("redis://127.0.0.1:1/0", SMALL), RedisAttachments)


def test_references_in_old_events_read_back_unchanged() -> None:
    old = {"kind": "image", "name": "a.jpg", "mime_type": "", "size": 3, "url": "", "ref": "F1"}
    attachment = Attachment.from_json(old)
    assert attachment.id == "" and attachment.to_json() == old
    inbound = Inbound(
        channel="webchat",
        sender="v1",
        message_id="m1",
        text="",
        attachments=(Attachment(kind="document", name="发票.pdf", id="att_" + "0" * 32),),
    )
    assert Inbound.from_json(inbound.to_json()) == inbound


# --------------------------------------------------------------------------- both backends


@pytest.fixture(params=["fs", "redis", "redis-cluster"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AttachmentStore]:
    chosen: AttachmentStore
    if request.param == "fs":
        chosen = FileAttachments(tmp_path / "attachments", SMALL)
    else:
        fixture = "redis_url" if request.param == "redis" else "redis_cluster_url"
        chosen = RedisAttachments(request.getfixturevalue(fixture), SMALL)
    await chosen.open()
    yield chosen
    await chosen.close()


async def _nothing_stored(store: AttachmentStore) -> bool:
    if isinstance(store, FileAttachments):
        return not [p for p in store.directory.rglob("*") if p.is_file()]
    assert isinstance(store, RedisAttachments)
    return not [k async for k in store.redis.scan_iter(match="fd:att:*")]


@pytest.mark.parametrize(
    ("name", "data"),
    [("invoice.pdf", pdf()), ("发票.pdf", pdf("发票".encode().hex())), ("photo.png", png())],
)
async def test_a_file_round_trips_with_its_metadata(
    store: AttachmentStore, name: str, data: bytes
) -> None:
    stored = await store.put(
        data, name=name, declared_type="application/octet-stream", uploader="webchat:v1"
    )
    assert stored.id.startswith("att_") and stored.name == name
    assert stored.size == len(data) and stored.sha256 == hashlib.sha256(data).hexdigest()
    assert await store.read(stored.id) == data
    assert await store.meta(stored.id) == stored
    reference = stored.reference()
    assert reference.id == stored.id and reference.mime_type == stored.sniffed_type
    assert reference.kind == ("image" if name.endswith(".png") else "document")


@pytest.mark.parametrize(
    ("name", "declared", "data", "status"),
    [
        ("big.pdf", "application/pdf", pdf() + b"x" * 4096, 413),
        ("page.png", "image/png", HTML_AS_PNG, 415),
        ("page.html", "text/html", HTML_AS_PNG, 415),
        ("logo.svg", "image/svg+xml", SVG, 415),
        ("prog.exe", "application/octet-stream", b"MZ\x90\x00\x03\x00\x00\x00", 415),
        ("fake.pdf", "application/pdf", png(), 415),
        ("../../etc/passwd", "text/plain", b"root:x:0:0", 400),
        ("empty.txt", "text/plain", b"", 400),
        ("空文件.txt", "text/plain", b"", 400),
    ],
)
async def test_bad_files_are_refused_and_nothing_is_stored(
    store: AttachmentStore, name: str, declared: str, data: bytes, status: int
) -> None:
    with pytest.raises(AttachmentRefused) as refused:
        await store.put(data, name=name, declared_type=declared, uploader="webchat:v1")
    assert refused.value.status == status
    assert refused.value.message and refused.value.message_zh
    assert await _nothing_stored(store)


async def test_unknown_and_malformed_ids_are_not_found(store: AttachmentStore) -> None:
    for attachment_id in ("att_" + "f" * 32, "../../etc/passwd", "att_../x", ""):
        assert await store.meta(attachment_id) is None
        assert await store.read(attachment_id) is None


async def test_files_are_written_whole(tmp_path: Path) -> None:
    store = FileAttachments(tmp_path / "a", SMALL)
    await store.open()
    stored = await store.put(png(), name="a.png", declared_type="image/png", uploader="agent:tom")
    files = sorted(p.name for p in (tmp_path / "a").rglob("*") if p.is_file())
    # The image and its thumbnail, each with its metadata; no temporary file left behind.
    thumbnail = stored.thumbnail_id
    assert files == sorted([stored.id, f"{stored.id}.json", thumbnail, f"{thumbnail}.json"])
    (tmp_path / "a" / stored.id[4:6] / f"{stored.id}.json").unlink()
    assert await store.read(stored.id) is None  # bytes without metadata never count


async def test_redis_keeps_files_for_their_time_and_a_daily_quota(redis_url: str) -> None:
    store = RedisAttachments(redis_url, SMALL)
    await store.open()
    try:
        stored = await store.put(b"a" * 2000, name="a.txt", declared_type="", uploader="telegram:7")
        ttl = await store.redis.ttl(f"fd:att:{{{stored.id}}}:data")
        assert 0 < ttl <= SMALL.ttl
        await store.put(b"b" * 2000, name="b.txt", declared_type="", uploader="telegram:7")
        with pytest.raises(AttachmentRefused) as refused:
            await store.put(b"c" * 2000, name="c.txt", declared_type="", uploader="telegram:7")
        assert refused.value.status == 429
        # Another uploader has their own quota, and the refused bytes were not counted.
        await store.put(b"d" * 2000, name="d.txt", declared_type="", uploader="telegram:8")
        await store.put(b"e" * 900, name="e.txt", declared_type="", uploader="telegram:7")
    finally:
        await store.close()
    check = Redis.from_url(redis_url)
    assert len([k async for k in check.scan_iter(match="fd:att:*:data")]) == 4
    await check.aclose()
