"""Safe decoding of untrusted image bytes into an RGB array, with size and pixel limits.

Order of checks, cheapest first: byte count, then the header (format and declared size, read by
Pillow without decoding pixels), then the full decode. So a 30000×30000 PNG of a few kilobytes is
refused from its header and its pixels are never allocated. JPEGs larger than needed are decoded
at a reduced scale (libjpeg's DCT scaling via ``Image.draft``), which keeps memory bounded and is
faster than decoding the whole image and shrinking it.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageRefused

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_PIXELS", "DEFAULT_MAX_SIDE", "decode_image"]

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_PIXELS = 40_000_000  # a 12 MP phone photo is well inside; a decompression bomb is not
DEFAULT_MAX_SIDE = 1600  # larger images are shrunk: a face needs far fewer pixels than this
_FORMATS = ("JPEG", "PNG", "WEBP")


def decode_image(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int = DEFAULT_MAX_SIDE,
) -> np.ndarray:
    """Decode JPEG, PNG or WebP bytes into an upright RGB image.

    EXIF orientation is applied; greyscale, palette, RGBA and 16-bit images become 8-bit RGB (alpha
    is dropped). An image whose longer side exceeds ``max_side`` is shrunk to it, keeping the
    aspect ratio, so later stages see bounded sizes.

    Args:
        data: the encoded image as received (for example one webcam frame).
        max_bytes: refuse larger inputs without parsing them.
        max_pixels: refuse images whose declared width × height exceeds this, before decoding.
        max_side: longest side of the returned image, in pixels.

    Returns:
        uint8 array of shape ``(height, width, 3)``, RGB, C-contiguous.

    Raises:
        ImageRefused: with ``reason`` ``empty``, ``too_large``, ``too_many_pixels``,
            ``unsupported_format`` (not JPEG/PNG/WebP, including text or other files) or
            ``corrupt`` (truncated or malformed data). No other exception escapes.
    """
    if not data:
        raise ImageRefused("empty", "no bytes received")
    if len(data) > max_bytes:
        raise ImageRefused("too_large", f"{len(data)} bytes, limit {max_bytes}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(bytes(data)), formats=_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRefused("too_many_pixels", str(exc)) from None
    except UnidentifiedImageError:
        raise ImageRefused("unsupported_format", "not a JPEG, PNG or WebP image") from None
    except Exception as exc:  # any parser failure on untrusted bytes is a refusal, not a 500
        raise ImageRefused("corrupt", f"unreadable header: {type(exc).__name__}") from None
    width, height = image.size
    if width <= 0 or height <= 0:
        raise ImageRefused("corrupt", "image has no pixels")
    if width * height > max_pixels:
        raise ImageRefused("too_many_pixels", f"{width}x{height}, limit {max_pixels} pixels")
    try:
        return _load_rgb(image, max_side)
    except ImageRefused:
        raise
    except MemoryError:
        raise ImageRefused("too_many_pixels", "not enough memory to decode") from None
    except Exception as exc:  # truncated data, bad chunks, broken EXIF: all refusals
        raise ImageRefused("corrupt", f"cannot decode: {type(exc).__name__}: {exc}"[:200]) from None


def _load_rgb(image: Image.Image, max_side: int) -> np.ndarray:
    if image.format == "JPEG" and max(image.size) > 2 * max_side:
        image.draft("RGB", (max_side, max_side))  # decode at 1/2, 1/4 or 1/8 scale
    image.load()
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(image, dtype=np.float64)
        top = float(arr.max()) or 1.0
        image = Image.fromarray(np.clip(arr / top * 255.0, 0, 255).astype(np.uint8))
    if image.mode != "RGB":
        image = image.convert("RGB")
    if max(image.size) > max_side:
        scale = max_side / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.ascontiguousarray(np.asarray(image, dtype=np.uint8))
