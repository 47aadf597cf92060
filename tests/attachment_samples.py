"""Small real files for attachment tests, made here rather than shipped as binaries."""

from __future__ import annotations

import struct
import zlib

from aiohttp import FormData

from hub.attachments import AttachmentStore, StoredAttachment


def png(width: int = 4, height: int = 3, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A valid PNG of one colour (browsers decode it: the e2e tests check its size)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def pdf(text: str = "invoice") -> bytes:
    """A minimal PDF (readers may complain; sniffing only needs the header)."""
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% " + text.encode() + b"\n%%EOF\n"


HTML_AS_PNG = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>'

#: Uploads every surface refuses: (name, bytes, declared type, status, words of the Chinese
#: reason). Over 10 MB, so it is too large under the default limit and any lower one.
BAD_UPLOADS = [
    ("big.pdf", pdf() + b"x" * (10 * 1024 * 1024), "application/pdf", 413, "上限"),
    ("cat.png", HTML_AS_PNG, "image/png", 415, "不符"),
    ("page.html", HTML_AS_PNG, "text/html", 415, "不接受"),
    ("logo.svg", SVG, "image/svg+xml", 415, "不接受"),
    ("../../etc/passwd", b"root:x:0:0\n", "text/plain", 400, "路径"),
    ("..\\发票.pdf", pdf(), "application/pdf", 400, "路径"),
    ("empty.txt", b"", "text/plain", 400, "空"),
    ("空白.txt", b"", "text/plain", 400, "空"),
]


def upload_form(name: str, data: bytes, mime: str) -> FormData:
    """A multipart upload with one `file` part, as a browser sends it."""
    body = FormData()
    body.add_field("file", data, filename=name, content_type=mime)
    return body


async def agent_files(
    store: AttachmentStore, conversation_id: str, *files: tuple[str, bytes]
) -> list[StoredAttachment]:
    """Files an agent uploaded into `conversation_id` (name, bytes), ready for a reply."""
    return [
        await store.put(
            data, name=name, declared_type="", uploader="agent:mei", conversation_id=conversation_id
        )
        for name, data in files
    ]
