"""Checking images that workers send, before anything is stored.

A worker is outside the trust boundary: its bytes must be a real image of
exactly the job's size, small enough in bytes and pixels, and must not be a
decompression bomb (a tiny file that inflates to gigabytes).
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, UnidentifiedImageError

from generation import conf

from .errors import worker_bad

ALLOWED_FORMATS = {"WEBP", "PNG", "JPEG"}


def image_validate(*, data: bytes, width: int, height: int) -> tuple[bytes, str]:
    """Return (webp bytes, format seen) or raise WorkerActionRefused 400 rc InvalidImage.

    The header is read first (size and format, no pixel decoding), so a bomb is
    refused before it is decoded; then the pixels are decoded once to prove the
    file is whole. A webp is stored as sent; other formats are re-encoded.
    """
    if not data:
        raise worker_bad("InvalidImage", "The generation is empty.", "generation")
    if len(data) > conf.max_image_bytes():
        raise worker_bad("InvalidImage", f"The image is larger than {conf.max_image_bytes()} bytes.", "generation")
    # Allow a little over the job's own size; anything bigger is refused before decoding.
    limit = max(width * height * 2, 64 * 64)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                fmt = probe.format or ""
                probe_w, probe_h = probe.size
                if fmt not in ALLOWED_FORMATS:
                    raise worker_bad("InvalidImage", f"Images must be webp, png or jpeg, not {fmt or 'unknown'}.")
                if probe_w * probe_h > limit:
                    raise worker_bad(
                        "InvalidImage", f"The image has too many pixels ({probe_w}x{probe_h}).", "generation"
                    )
                if (probe_w, probe_h) != (width, height):
                    raise worker_bad(
                        "InvalidImage",
                        f"The image is {probe_w}x{probe_h}; this job is {width}x{height}.",
                        "generation",
                    )
                probe.load()  # decode every pixel: a truncated or corrupt file fails here
                if fmt == "WEBP":
                    return data, fmt
                out = io.BytesIO()
                probe.convert("RGB").save(out, format="WEBP", quality=90)
                return out.getvalue(), fmt
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise worker_bad("InvalidImage", "The image is a decompression bomb.", "generation") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise worker_bad("InvalidImage", f"The generation is not a readable image ({type(exc).__name__}).") from None
