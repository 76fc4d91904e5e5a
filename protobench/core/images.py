"""Turning an encoded PNG/JPEG of any size into the 8x8, 0-16 input the digits model expects."""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

from protobench.core.errors import CoreError, ErrorCode
from protobench.core.models import FloatArray

ACCEPTED_FORMATS = ("PNG", "JPEG")
SIDE = 8
MAX_VALUE = 16.0


def image_to_features(data: bytes, max_bytes: int, max_pixels: int) -> FloatArray:
    """Decode, grey, shrink to 8x8 and scale to 0-16, as a (1, 64) row.

    The training images are light ink on a dark background; a photo or scan is usually the
    opposite, so an image whose border is lighter than mid-grey is inverted first.
    """
    if not data:
        raise CoreError(ErrorCode.INVALID_INPUT, "the image is empty")
    if len(data) > max_bytes:
        raise CoreError(
            ErrorCode.TOO_LARGE,
            f"the image is {len(data)} bytes; the limit is {max_bytes}",
            {"bytes": len(data), "limit": max_bytes},
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
            width, height = image.size
            if width * height > max_pixels:
                raise CoreError(
                    ErrorCode.TOO_LARGE,
                    f"the image is {width}x{height} pixels; the limit is {max_pixels} pixels",
                    {"width": width, "height": height, "limit": max_pixels},
                )
            grey = image.convert("L")
    except CoreError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise CoreError(ErrorCode.TOO_LARGE, f"the image is too large to decode: {exc}") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise CoreError(
            ErrorCode.INVALID_INPUT,
            "could not decode the image: send a PNG or JPEG file",
        ) from exc
    if grey.size != (SIDE, SIDE):
        grey = grey.resize((SIDE, SIDE), Image.Resampling.LANCZOS)
    pixels = np.asarray(grey, dtype=np.float64)
    border = np.concatenate([pixels[0], pixels[-1], pixels[1:-1, 0], pixels[1:-1, -1]])
    if border.mean() > 127.5:
        pixels = 255.0 - pixels
    features: FloatArray = (pixels * (MAX_VALUE / 255.0)).reshape(1, SIDE * SIDE)
    return features


def features_to_png(row: FloatArray) -> bytes:
    """The inverse, for examples and tests: one 64-value row (0-16) as an 8x8 PNG."""
    pixels = np.clip(np.rint(np.asarray(row).reshape(SIDE, SIDE) * (255.0 / MAX_VALUE)), 0, 255)
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8), mode="L").save(buffer, format="PNG")
    return buffer.getvalue()
