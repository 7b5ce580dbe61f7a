"""decode_image refuses bad input with a reason code and never lets another exception escape."""

import io
import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from recognition import ImageRefused, decode_image


def _refusal(data: bytes, **limits) -> str:
    with pytest.raises(ImageRefused) as info:
        decode_image(data, **limits)
    return info.value.reason


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _encode(image: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kw)
    return buf.getvalue()


def test_decode_image_refuses_empty_bytes():
    assert _refusal(b"") == "empty"


def test_decode_image_refuses_truncated_jpeg(face_bytes):
    data = face_bytes("obama.jpg")
    assert _refusal(data[: len(data) // 2]) == "corrupt"


def test_decode_image_refuses_text_named_jpg(faces_dir):
    assert _refusal((faces_dir / "README.md").read_bytes()) == "unsupported_format"
    assert _refusal(b"GIF89a" + b"\x00" * 40) == "unsupported_format"


def test_decode_image_refuses_declared_30000_square_png_without_allocating():
    bomb = _png_header_only(30000, 30000)
    assert len(bomb) < 200
    tracemalloc.start()
    try:
        assert _refusal(bomb) == "too_many_pixels"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * 1024 * 1024  # 30000×30000×3 would be 2.7 GB


def test_decode_image_refuses_too_many_pixels_below_pillow_limit():
    data = _encode(Image.new("RGB", (4000, 3000), (120, 90, 60)), "JPEG")
    assert _refusal(data, max_pixels=10_000_000) == "too_many_pixels"


def test_decode_image_refuses_too_many_bytes(face_bytes):
    data = face_bytes("obama.jpg")
    assert _refusal(data, max_bytes=len(data) - 1) == "too_large"


def test_decode_image_shrinks_huge_image_to_max_side():
    data = _encode(Image.new("RGB", (6000, 4000), (10, 200, 30)), "JPEG", quality=50)
    image = decode_image(data, max_side=1600)
    assert max(image.shape[:2]) <= 1600 and image.shape[2] == 3
    assert abs(image.shape[1] / image.shape[0] - 1.5) < 0.01


def test_decode_image_applies_exif_orientation():
    source = Image.new("RGB", (300, 200), (0, 0, 0))
    source.paste((255, 255, 255), (0, 0, 50, 50))  # white block top-left
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    image = decode_image(_encode(source, "JPEG", exif=exif, quality=95))
    assert image.shape[:2] == (300, 200)
    assert image[10, 190].mean() > 200 and image[10, 10].mean() < 50


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "I;16"])
def test_decode_image_returns_rgb_for_other_modes(mode):
    image = Image.new("RGB", (64, 48), (200, 100, 50)).convert(mode if mode != "I;16" else "L")
    if mode == "I;16":
        image = Image.fromarray((np.arange(64 * 48).reshape(48, 64) * 20).astype(np.uint16))
    out = decode_image(_encode(image, "PNG"))
    assert out.shape == (48, 64, 3) and out.dtype == np.uint8


def test_decode_image_reads_rgba_png_and_webp(face_bytes):
    assert decode_image(face_bytes("32bit.png")).shape[2] == 3
    webp = _encode(Image.new("RGB", (40, 30), (1, 2, 3)), "WEBP")
    assert decode_image(webp).shape == (30, 40, 3)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_decode_image_random_bytes_only_refuse(data):
    try:
        image = decode_image(data)
    except ImageRefused as exc:
        assert exc.reason in {"empty", "too_large", "too_many_pixels", "unsupported_format", "corrupt"}
    else:
        assert image.ndim == 3 and image.shape[2] == 3


@settings(max_examples=150, deadline=None)
@given(st.binary(min_size=1, max_size=64), st.integers(min_value=0, max_value=2000))
def test_decode_image_corrupted_real_images_only_refuse(face_bytes, noise, position):
    for data in (face_bytes("obama_small.jpg"), _encode(Image.new("RGB", (32, 32), (9, 9, 9)), "PNG")):
        position %= len(data)
        broken = data[:position] + noise + data[position + len(noise):]
        try:
            decode_image(broken)
        except ImageRefused:
            pass
