"""Completion photos: size-capped, really an image, stored re-encoded.

The upload is checked by its bytes, not its name: Pillow must identify and fully decode
it as JPEG, PNG or WebP. It is stored as a fresh JPEG (at most ``MAX_SIDE`` px), which
also drops every metadata block the camera wrote (EXIF GPS position, device serial).
"""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

ACCEPTED = {"JPEG", "PNG", "WEBP"}
MAX_SIDE = 1600
MAX_PIXELS = 40_000_000  # a decompression bomb is refused before it is decoded


class PhotoError(ValueError):
    """The upload is not a usable photo; the message says why, for people."""


def _mb(n: int) -> str:
    return f"{n / 1_048_576:.1f}".replace(".", ",") + " MB"


def clean_photo(data: bytes, max_bytes: int, name: str = "foto") -> bytes:
    """The photo as a metadata-free JPEG; PhotoError when too large or not an image."""
    if len(data) > max_bytes:
        raise PhotoError(f"{name}: terlalu besar ({_mb(len(data))}; maks. {_mb(max_bytes)})")
    if not data:
        raise PhotoError(f"{name}: berkas kosong")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind, (width, height) = probe.format, probe.size
            if kind not in ACCEPTED:
                raise PhotoError(f"{name}: format {kind} tidak diterima (JPEG, PNG atau WebP)")
            if width * height > MAX_PIXELS:
                raise PhotoError(f"{name}: gambar terlalu besar ({width}×{height} piksel)")
            probe.load()  # decodes every pixel: a truncated or fake file fails here
            image = probe.convert("RGB")
    # ModuleNotFoundError: once ultralytics is imported in the process it patches
    # Image.open to retry an unidentified file with the pi-heif plugin, which is not
    # installed (nothing downloads at run time) - that too means "not an image we take".
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError,
            ModuleNotFoundError):
        raise PhotoError(f"{name}: bukan gambar yang dapat dibaca (JPEG, PNG atau WebP)") from None
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()
