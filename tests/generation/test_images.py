"""Images from workers are checked before anything is stored."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from generation.services import WorkerActionRefused
from generation.services.images import image_validate

from .conftest import webp


def refused(data: bytes, width: int = 512, height: int = 512) -> WorkerActionRefused:
    with pytest.raises(WorkerActionRefused) as caught:
        image_validate(data=data, width=width, height=height)
    assert caught.value.rc == "InvalidImage"
    assert caught.value.status_code == 400
    return caught.value


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a huge size in a few bytes (the shape of a decompression bomb)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_a_webp_of_the_right_size_is_kept_as_sent():
    data = webp(512, 512)
    assert image_validate(data=data, width=512, height=512) == (data, "WEBP")


def test_a_png_is_accepted_and_stored_as_webp():
    stored, fmt = image_validate(data=webp(256, 128, fmt="PNG"), width=256, height=128)
    assert fmt == "PNG"
    assert Image.open(io.BytesIO(stored)).format == "WEBP"


def test_bytes_that_are_not_an_image_are_refused():
    assert "not a readable image" in refused(b"hello, I am not a picture" * 10).message


def test_an_empty_generation_is_refused():
    refused(b"")


def test_an_image_of_the_wrong_size_is_refused():
    assert "256x256" in refused(webp(256, 256)).message


def test_too_many_bytes_are_refused_before_decoding(settings):
    settings.HORDE_MAX_IMAGE_BYTES = 1000
    assert "larger than" in refused(webp(512, 512, fmt="PNG") + b"\x00" * 2000).message


def test_a_decompression_bomb_is_refused_without_decoding_it():
    bomb = png_header_only(60_000, 60_000)  # 3.6 gigapixels announced in a few bytes
    assert len(bomb) < 200
    message = refused(bomb).message
    assert "bomb" in message or "too many pixels" in message


def test_a_large_but_not_bomb_image_is_refused_by_the_pixel_bound():
    assert "too many pixels" in refused(png_header_only(4096, 4096)).message


def test_a_truncated_image_is_refused():
    data = webp(512, 512, fmt="PNG")
    refused(data[: len(data) // 2])


def test_a_gif_is_refused():
    out = io.BytesIO()
    Image.new("RGB", (512, 512)).save(out, format="GIF")
    assert "webp, png or jpeg" in refused(out.getvalue()).message
