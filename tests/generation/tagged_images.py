"""Real image files that carry what a worker could hide next to the pixels.

`MARKER` (a pipeline's and a worker's name) is written into every place a file
can hold text: EXIF, XMP, an ICC profile's description, an unknown RIFF chunk,
bytes after the file, PNG text chunks, a JPEG comment. A stored image is blind
when none of it survives (`webp_is_clean`, and the marker is not in its bytes).
"""

from __future__ import annotations

import io
import struct

from PIL import Image
from PIL.PngImagePlugin import PngInfo

MARKER = "pipeline=sdxl-base-refiner v2 worker=gpu-box-7"

# sRGB's primaries adapted to D50 (the ICC connection space).
SRGB_RED = (0.4361, 0.2225, 0.0139)
SRGB_GREEN = (0.3851, 0.7169, 0.0971)
SRGB_BLUE = (0.1431, 0.0606, 0.7141)


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ " + b"\0" * 4 + _s15(x) + _s15(y) + _s15(z)


def _curve(gamma: float) -> bytes:
    return b"curv" + b"\0" * 4 + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"


def _desc(text: str) -> bytes:
    ascii_text = text.encode() + b"\0"
    return b"desc" + b"\0" * 4 + struct.pack(">I", len(ascii_text)) + ascii_text + b"\0" * 78


def icc_profile(*, description: str = MARKER, red=SRGB_RED, green=SRGB_GREEN, blue=SRGB_BLUE) -> bytes:
    """A real ICC v2 RGB display profile (matrix + gamma 2.2) that littleCMS reads.

    With `red` and `green` swapped it maps the file's pure red to sRGB green: a
    re-encode that applies the profile turns red pixels green, one that ignores it does not.
    """
    tags = [
        (b"desc", _desc(description)),
        (b"wtpt", _xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", _xyz(*red)),
        (b"gXYZ", _xyz(*green)),
        (b"bXYZ", _xyz(*blue)),
        (b"rTRC", _curve(2.2)),
        (b"gTRC", _curve(2.2)),
        (b"bTRC", _curve(2.2)),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags:
        data += b"\0" * (-len(data) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    header = (
        struct.pack(">I", offset + len(body))
        + b"lcms"
        + bytes([2, 0x10, 0, 0])
        + b"mntrRGB XYZ "
        + b"\0" * 12
        + b"acsp"
        + b"\0" * 28
        + _s15(0.9642)
        + _s15(1.0)
        + _s15(0.8249)
        + b"\0" * 48
    )
    return header + struct.pack(">I", len(tags)) + table + body


def exif_bytes(text: str = MARKER) -> bytes:
    exif = Image.Exif()
    exif[0x010E] = text  # ImageDescription
    exif[0x0131] = text  # Software
    exif[0x013B] = text  # Artist
    return exif.tobytes()


def xmp_bytes(text: str = MARKER) -> bytes:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="{text}"/>'
        "</rdf:RDF></x:xmpmeta>"
    ).encode()


def picture(width: int, height: int, colour=(200, 30, 30)) -> Image.Image:
    """A picture with some structure (two gradients and a block), so pixels can be compared."""
    ramp = Image.linear_gradient("L")
    down = ramp.resize((width, height))
    across = ramp.transpose(Image.Transpose.ROTATE_90).resize((width, height))
    image = Image.merge("RGB", (down, across, Image.new("L", (width, height), 90)))
    image = Image.blend(image, Image.new("RGB", (width, height), colour), 0.5)
    image.paste((20, 20, 20), (width // 4, height // 4, width // 2, height // 2))
    return image


def with_chunk(webp: bytes, fourcc: bytes, payload: bytes, trailing: bytes = b"") -> bytes:
    """The webp with one more RIFF chunk at its end (RIFF size fixed up), then `trailing` bytes."""
    chunk = fourcc + struct.pack("<I", len(payload)) + payload + b"\0" * (len(payload) & 1)
    body = webp[12:] + chunk
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body + trailing


def tagged_webp(
    width: int, height: int, colour=(200, 30, 30), *, lossless: bool = False, marker: str = MARKER
) -> bytes:
    """A webp with EXIF, XMP and an ICC profile (all naming `marker`), an unknown `TEXT`
    chunk, and bytes after the RIFF file."""
    out = io.BytesIO()
    picture(width, height, colour).save(
        out,
        format="WEBP",
        lossless=lossless,
        quality=80,
        exif=exif_bytes(marker),
        xmp=xmp_bytes(marker),
        icc_profile=icc_profile(description=marker),
    )
    return with_chunk(out.getvalue(), b"TEXT", marker.encode(), trailing=marker.encode())


def tagged_png(width: int, height: int, colour=(200, 30, 30), *, marker: str = MARKER) -> bytes:
    """A PNG with tEXt, zTXt and iTXt chunks, EXIF and an ICC profile, all naming `marker`."""
    info = PngInfo()
    info.add_text("Comment", marker)
    info.add_text("Software", marker, zip=True)
    info.add_itxt("Description", marker, lang="en", tkey="Description")
    out = io.BytesIO()
    picture(width, height, colour).save(
        out, format="PNG", pnginfo=info, exif=exif_bytes(marker), icc_profile=icc_profile(description=marker)
    )
    return out.getvalue()


def tagged_jpeg(width: int, height: int, colour=(200, 30, 30), *, marker: str = MARKER) -> bytes:
    """A JPEG with EXIF, a COM comment, XMP and an ICC profile, all naming `marker`."""
    out = io.BytesIO()
    picture(width, height, colour).save(
        out,
        format="JPEG",
        quality=92,
        exif=exif_bytes(marker),
        comment=marker,
        xmp=xmp_bytes(marker),
        icc_profile=icc_profile(description=marker),
    )
    return out.getvalue()
