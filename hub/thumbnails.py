"""Thumbnails of image attachments: made once, when the image is stored, and kept beside it.

The console's transcript and the web chat widget show a thumbnail of every image (at most
`MAX_SIDE` pixels a side, a small JPEG, or PNG where the image has transparency) and link
to the original; nothing else is ever decoded for the page. Decoding is the risk: a 10 MB
file can claim a canvas of billions of pixels (a decompression bomb), so the size its
header claims is checked before a single pixel is decoded, and anything above
`MAX_PIXELS` gets no thumbnail at all (the page then shows a file icon, never the
original). Only the formats the attachment gate admits inline are opened (PNG, JPEG, GIF,
WebP); a file Pillow cannot read is simply left without a thumbnail.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

MAX_SIDE = 320
# 40 megapixels: every real photo (a 48 MP phone shot is taken at 12 MP by default) and far
# below what would take a worker thread's memory (Pillow's own bomb limit is ~179 MP).
MAX_PIXELS = 40_000_000
_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")


@dataclass(frozen=True, slots=True)
class Thumbnail:
    data: bytes
    mime_type: str  # image/jpeg or image/png


def make_thumbnail(
    data: bytes, *, max_side: int = MAX_SIDE, max_pixels: int = MAX_PIXELS
) -> Thumbnail | None:
    """A thumbnail of the image in `data`, or None when it is no image Pillow reads, claims
    more than `max_pixels`, or fails to decode. CPU work: call it on a worker thread."""
    try:
        with warnings.catch_warnings():
            # Pillow warns (and only later raises) on very large images: refuse at once.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=_FORMATS) as image:
                width, height = image.size  # from the header: nothing is decoded yet
                if width < 1 or height < 1 or width * height > max_pixels:
                    return None
                image.draft("RGB", (max_side, max_side))  # JPEG: decode at a reduced scale
                upright = ImageOps.exif_transpose(image)  # a phone photo the right way up
                upright.thumbnail((max_side, max_side))
                return _encode(upright)
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
        return None
    except Image.DecompressionBombWarning:
        return None


def _encode(image: Image.Image) -> Thumbnail:
    out = io.BytesIO()
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        image.convert("RGBA").save(out, "PNG", optimize=True)
        return Thumbnail(out.getvalue(), "image/png")
    image.convert("RGB").save(out, "JPEG", quality=80, optimize=True)
    return Thumbnail(out.getvalue(), "image/jpeg")


__all__ = ["MAX_PIXELS", "MAX_SIDE", "Thumbnail", "make_thumbnail"]
