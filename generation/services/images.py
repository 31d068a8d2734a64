"""Checking images that workers send, and re-encoding them before anything is stored.

A worker is outside the trust boundary: its bytes must be a real image of
exactly the job's size, small enough in bytes and pixels, and must not be a
decompression bomb (a tiny file that inflates to gigabytes).

Judging is blind, so what is stored is never the worker's file: the pixels are
decoded and re-encoded as a bare lossy webp (one `VP8 ` chunk, nothing else).
That drops everything a worker could write besides pixels (EXIF, XMP, an ICC
profile, comments, unknown chunks, bytes after the file) and also the
encoder's own fingerprint (lossless or lossy, quality, container layout),
which could otherwise tell a rater which pipeline's worker made an image.
"""

from __future__ import annotations

import io
import struct
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image, ImageCms, UnidentifiedImageError

from generation import conf

from .errors import worker_bad

ALLOWED_FORMATS = {"WEBP", "PNG", "JPEG"}
# As generation.tasks.webp_bytes: method=2 encodes a 1024x1024 image in about half the
# time of Pillow's default (4) for files ~1-3% larger.
WEBP_QUALITY = 90
WEBP_METHOD = 2

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def image_validate(*, data: bytes, width: int, height: int) -> tuple[bytes, str]:
    """Return (clean webp bytes, format seen) or raise WorkerActionRefused 400 rc InvalidImage.

    The header is read first (size and format, no pixel decoding), so a bomb is
    refused before it is decoded; then the pixels are decoded once, which proves
    the file is whole, and re-encoded (`webp_clean`) whatever the format sent.
    """
    if not data:
        raise worker_bad("InvalidImage", "The generation is empty.", "generation")
    if len(data) > conf.max_image_bytes():
        raise worker_bad("InvalidImage", f"The image is larger than {conf.max_image_bytes()} bytes.", "generation")
    # Allow a little over the job's own size; anything bigger is refused before decoding.
    limit = max(width * height * 2, 64 * 64)
    try:
        with _opened(data) as probe:
            fmt = probe.format or ""
            probe_w, probe_h = probe.size
            if fmt not in ALLOWED_FORMATS:
                raise worker_bad("InvalidImage", f"Images must be webp, png or jpeg, not {fmt or 'unknown'}.")
            if probe_w * probe_h > limit:
                raise worker_bad("InvalidImage", f"The image has too many pixels ({probe_w}x{probe_h}).", "generation")
            if (probe_w, probe_h) != (width, height):
                raise worker_bad(
                    "InvalidImage",
                    f"The image is {probe_w}x{probe_h}; this job is {width}x{height}.",
                    "generation",
                )
            if getattr(probe, "n_frames", 1) > 1:
                raise worker_bad("InvalidImage", "The image is animated; a generation is a still image.", "generation")
            probe.load()  # decode every pixel: a truncated or corrupt file fails here
            return webp_clean(probe), fmt
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise worker_bad("InvalidImage", "The image is a decompression bomb.", "generation") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise worker_bad("InvalidImage", f"The generation is not a readable image ({type(exc).__name__}).") from None


def image_reencode(*, data: bytes, max_pixels: int) -> bytes:
    """Re-encode an image already stored (`manage.py images_strip_metadata`) as `webp_clean` does.

    Raises ValueError when the bytes are not a readable still image of at most
    `max_pixels` pixels; a stored file is never trusted more than a submitted one.
    """
    try:
        with _opened(data) as picture:
            if picture.size[0] * picture.size[1] > max_pixels:
                raise ValueError(f"the image has too many pixels ({picture.size[0]}x{picture.size[1]})")
            picture.load()
            return webp_clean(picture)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValueError("the image is a decompression bomb") from None
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ValueError(f"not a readable image ({type(exc).__name__})") from None


@contextmanager
def _opened(data: bytes) -> Iterator[Image.Image]:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data)) as picture:
            yield picture


def censored_placeholder(*, width: int, height: int) -> bytes:
    """What a censored generation stores instead of the worker's image: the same size, a flat
    grey with a diagonal cross (no text, no worker pixels), as a bare webp."""
    from PIL import ImageDraw

    picture = Image.new("RGB", (width, height), (96, 96, 104))
    draw = ImageDraw.Draw(picture)
    line = max(2, min(width, height) // 64)
    draw.line([(0, 0), (width - 1, height - 1)], fill=(140, 140, 150), width=line)
    draw.line([(0, height - 1), (width - 1, 0)], fill=(140, 140, 150), width=line)
    return webp_clean(picture)


def webp_clean(picture: Image.Image) -> bytes:
    """The picture's pixels (in sRGB, first frame, no alpha) as a bare lossy webp: no
    EXIF, XMP, ICC profile or any other chunk, whatever `picture.info` carries."""
    rgb = _srgb_pixels(picture)
    rgb.info = {}
    out = io.BytesIO()
    rgb.save(out, format="WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD, exif=b"", xmp=b"", icc_profile=None)
    return out.getvalue()


def _srgb_pixels(picture: Image.Image) -> Image.Image:
    """RGB pixels that look as the file meant them: an embedded colour profile is applied
    (converted to sRGB) before it is dropped; an unusable profile is ignored."""
    profile = picture.info.get("icc_profile")
    if profile and picture.mode in ("RGB", "CMYK", "L"):
        try:
            return ImageCms.profileToProfile(
                picture, ImageCms.ImageCmsProfile(io.BytesIO(profile)), _SRGB, outputMode="RGB"
            )
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a broken or mismatched profile: keep the pixels as they are
    if picture.mode in ("P", "PA", "LA", "La", "RGBa"):
        # Through RGBA so a palette's transparency converts without Pillow's warning.
        return picture.convert("RGBA").convert("RGB")
    return picture.convert("RGB")


def riff_chunks(data: bytes) -> list[tuple[bytes, int]]:
    """The (fourcc, size) of each chunk of a RIFF/WEBP file, in order.

    Chunks are read within the RIFF's own size; whatever follows it is listed as
    (b"", its length), so bytes hidden after the file show up too. Raises ValueError
    on a non-RIFF file or a chunk that runs past the end.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not a RIFF/WEBP file")
    (riff_size,) = struct.unpack("<I", data[4:8])
    end = min(8 + riff_size, len(data))
    chunks: list[tuple[bytes, int]] = []
    offset = 12
    while offset + 8 <= end:
        fourcc = data[offset : offset + 4]
        (size,) = struct.unpack("<I", data[offset + 4 : offset + 8])
        if offset + 8 + size > end:
            raise ValueError(f"the {fourcc!r} chunk runs past the end of the file")
        chunks.append((fourcc, size))
        offset += 8 + size + (size & 1)  # chunks are padded to an even length
    if offset < len(data):
        chunks.append((b"", len(data) - offset))
    return chunks


def webp_is_clean(data: bytes) -> bool:
    """True for what `webp_clean` writes: a RIFF/WEBP whose only chunk is one `VP8 `
    bitstream, with the RIFF size matching the file (nothing before or after)."""
    try:
        chunks = riff_chunks(data)
    except ValueError:
        return False
    return len(chunks) == 1 and chunks[0][0] == b"VP8 " and struct.unpack("<I", data[4:8])[0] == len(data) - 8
