"""Thumbnails of image attachments (`hub.thumbnails`): made once when an image is stored,
at most 320 pixels a side, never for a file that only claims to be a huge image, never for
anything that is not an image; kept beside the image on both backends (real redis-server)."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from hub.attachments import AttachmentSettings, AttachmentStore
from hub.attachments_fs import FileAttachments
from hub.attachments_redis import RedisAttachments
from hub.thumbnails import make_thumbnail
from tests.attachment_samples import pdf, png


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def pixel(image: Image.Image, x: int, y: int) -> tuple[int, ...]:
    value = image.getpixel((x, y))
    assert isinstance(value, tuple)
    return value


def claims(width: int, height: int) -> bytes:
    """A PNG whose header claims this size, with one row of pixels (a decompression bomb's
    shape: nothing but the header is true)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" + b"\x00" * 3 * min(width, 4096))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def rgba_png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (10, 120, 200, 90)).save(out, "PNG")
    return out.getvalue()


def test_a_large_photo_becomes_a_small_jpeg_of_the_same_shape() -> None:
    made = make_thumbnail(png(1000, 600))
    assert made is not None and made.mime_type == "image/jpeg"
    image = decoded(made.data)
    assert (image.format, image.size) == ("JPEG", (320, 192))
    assert pixel(image, 100, 100)[0] > 150  # still the red of the original


def test_transparency_is_kept_as_png_and_small_images_are_not_enlarged() -> None:
    made = make_thumbnail(rgba_png(40, 30))
    assert made is not None and made.mime_type == "image/png"
    image = decoded(made.data)
    assert image.size == (40, 30) and image.mode == "RGBA"
    assert pixel(image, 5, 5)[3] == 90


def test_a_file_claiming_too_many_pixels_is_never_decoded() -> None:
    assert make_thumbnail(claims(50_000, 50_000)) is None  # 2.5 gigapixels in 100 bytes
    assert make_thumbnail(png(100, 100), max_pixels=5_000) is None
    assert make_thumbnail(png(100, 100), max_pixels=10_000) is not None


@pytest.mark.parametrize(
    "data",
    [pdf(), b"", b"\x89PNG\r\n\x1a\n broken", png(64, 64)[:60], "发票".encode()],
)
def test_what_is_no_readable_image_gets_no_thumbnail(data: bytes) -> None:
    assert make_thumbnail(data) is None


@pytest.fixture(params=["fs", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AttachmentStore]:
    settings = AttachmentSettings(max_bytes=1_000_000)
    chosen: AttachmentStore
    if request.param == "fs":
        chosen = FileAttachments(tmp_path / "attachments", settings)
    else:
        chosen = RedisAttachments(request.getfixturevalue("redis_url"), settings)
    await chosen.open()
    yield chosen
    await chosen.close()


async def test_an_image_is_stored_with_its_thumbnail_and_a_document_without(
    store: AttachmentStore,
) -> None:
    photo = png(800, 800)
    stored = await store.put(
        photo, name="照片.png", declared_type="image/png", uploader="agent:mei"
    )
    assert stored.thumbnail_id and await store.meta(stored.id) == stored
    assert await store.read(stored.id) == photo  # the original is kept as it came
    found = await store.thumbnail(stored)
    assert found is not None
    meta, data = found
    assert meta.sniffed_type == "image/jpeg" and meta.size == len(data)
    assert meta.uploader == "agent:mei" and decoded(data).size == (320, 320)

    document = await store.put(pdf(), name="invoice.pdf", declared_type="", uploader="agent:mei")
    assert document.thumbnail_id == "" and await store.thumbnail(document) is None
    bomb = await store.put(
        claims(50_000, 50_000), name="bomb.png", declared_type="image/png", uploader="agent:mei"
    )
    assert bomb.thumbnail_id == "" and await store.thumbnail(bomb) is None
