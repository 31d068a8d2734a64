"""Images from workers are checked, then re-encoded without metadata, before anything is stored."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms

from generation.services import WorkerActionRefused
from generation.services.images import image_reencode, image_validate, riff_chunks, webp_is_clean

from .conftest import webp
from .tagged_images import (
    MARKER,
    SRGB_GREEN,
    SRGB_RED,
    icc_profile,
    tagged_jpeg,
    tagged_png,
    tagged_webp,
    with_chunk,
)


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


def decoded(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.convert("RGB")


def as_srgb(data: bytes) -> Image.Image:
    """The file's pixels as a viewer shows them: its colour profile applied."""
    with Image.open(io.BytesIO(data)) as image:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(image.info["icc_profile"]))
        srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
        return ImageCms.profileToProfile(image.convert("RGB"), profile, srgb, outputMode="RGB")


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel (0-255) of two same-size RGB pictures."""
    return float(np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16)).mean())


def assert_blind(stored: bytes) -> None:
    """Only the pixels are left: one bare VP8 chunk, no metadata, the marker nowhere."""
    assert riff_chunks(stored) == [(b"VP8 ", len(stored) - 20)]
    assert webp_is_clean(stored)
    assert MARKER.encode() not in stored
    for word in (b"Exif", b"EXIF", b"XMP", b"xmpmeta", b"ICCP", b"acsp", b"TEXT", b"pipeline", b"worker"):
        assert word not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "WEBP"
        assert not {"exif", "xmp", "icc_profile", "comment"} & set(image.info)
        assert len(image.getexif()) == 0


def test_a_webp_with_exif_xmp_icc_a_text_chunk_and_trailing_bytes_is_stored_bare():
    sent = tagged_webp(512, 512)
    chunks = [fourcc for fourcc, _ in riff_chunks(sent)]
    assert chunks == [b"VP8X", b"ICCP", b"VP8 ", b"EXIF", b"XMP ", b"TEXT", b""]  # the test file carries it all
    assert sent.count(MARKER.encode()) >= 5
    stored, fmt = image_validate(data=sent, width=512, height=512)
    assert fmt == "WEBP"
    assert_blind(stored)
    # The same picture: re-encoding keeps what the pipeline made.
    assert mean_difference(decoded(stored), as_srgb(sent)) < 3


def test_even_a_clean_webp_is_re_encoded_so_the_workers_encoder_leaves_no_trace():
    lossless = tagged_webp(256, 256, lossless=True)
    assert b"VP8L" in lossless
    stored, _ = image_validate(data=lossless, width=256, height=256)
    assert_blind(stored)
    plain = webp(512, 512)
    assert webp_is_clean(plain)
    again, _ = image_validate(data=plain, width=512, height=512)
    assert webp_is_clean(again)
    assert mean_difference(decoded(again), decoded(plain)) < 2


def test_a_png_with_text_chunks_exif_and_icc_is_stored_as_a_bare_webp():
    sent = tagged_png(256, 128)
    assert MARKER.encode() in sent
    stored, fmt = image_validate(data=sent, width=256, height=128)
    assert fmt == "PNG"
    assert_blind(stored)
    assert mean_difference(decoded(stored), as_srgb(sent)) < 3


def test_a_jpeg_with_exif_a_comment_xmp_and_icc_is_stored_as_a_bare_webp():
    sent = tagged_jpeg(256, 256)
    with Image.open(io.BytesIO(sent)) as probe:
        assert {"exif", "comment", "xmp", "icc_profile"} <= set(probe.info)
    stored, fmt = image_validate(data=sent, width=256, height=256)
    assert fmt == "JPEG"
    assert_blind(stored)


def test_an_embedded_colour_profile_is_applied_before_it_is_dropped():
    # A profile whose red primary is sRGB's green: a viewer shows these red pixels as green.
    out = io.BytesIO()
    swapped = icc_profile(red=SRGB_GREEN, green=SRGB_RED)
    Image.new("RGB", (64, 64), (255, 0, 0)).save(out, format="WEBP", lossless=True, icc_profile=swapped)
    stored, _ = image_validate(data=out.getvalue(), width=64, height=64)
    assert_blind(stored)
    r, g, b = decoded(stored).getpixel((32, 32))
    assert g > 200 and r < 60 and b < 60, (r, g, b)


def test_a_broken_colour_profile_is_dropped_and_the_pixels_kept():
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (255, 0, 0)).save(out, format="PNG", icc_profile=b"not a profile " + MARKER.encode())
    stored, _ = image_validate(data=out.getvalue(), width=64, height=64)
    assert_blind(stored)
    r, g, b = decoded(stored).getpixel((32, 32))
    assert r > 200 and g < 60 and b < 60, (r, g, b)


def test_transparency_is_flattened_so_no_alpha_chunk_is_stored():
    out = io.BytesIO()
    Image.new("RGBA", (64, 64), (10, 200, 30, 40)).save(out, format="WEBP", exif=b"Exif\x00\x00" + MARKER.encode())
    assert b"ALPH" in out.getvalue()
    stored, _ = image_validate(data=out.getvalue(), width=64, height=64)
    assert_blind(stored)


def test_a_palette_png_with_transparency_is_accepted():
    out = io.BytesIO()
    Image.new("P", (64, 64), 3).save(out, format="PNG", transparency=3)
    stored, _ = image_validate(data=out.getvalue(), width=64, height=64)
    assert webp_is_clean(stored)


def test_an_animated_webp_is_refused():
    frames = [Image.new("RGB", (64, 64), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, format="WEBP", save_all=True, append_images=frames[1:], duration=100)
    assert "animated" in refused(out.getvalue(), 64, 64).message


def test_riff_chunks_lists_bytes_after_the_file_and_refuses_a_chunk_past_the_end():
    plain = webp(64, 64)
    assert [fourcc for fourcc, _ in riff_chunks(plain + b"hidden")] == [b"VP8 ", b""]
    assert not webp_is_clean(plain + b"hidden")
    assert not webp_is_clean(with_chunk(plain, b"TEXT", b"x"))
    with pytest.raises(ValueError):
        riff_chunks(plain[:-10])
    with pytest.raises(ValueError):
        riff_chunks(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)


def test_image_reencode_cleans_a_stored_file_and_refuses_what_is_not_an_image():
    assert_blind(image_reencode(data=tagged_webp(128, 128), max_pixels=128 * 128))
    with pytest.raises(ValueError):
        image_reencode(data=b"not an image at all", max_pixels=10_000)
    with pytest.raises(ValueError, match="too many pixels"):
        image_reencode(data=tagged_webp(128, 128), max_pixels=64 * 64)


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
