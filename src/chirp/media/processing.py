"""Judge an upload by decoding it, and re-encode it without metadata, the right way up.

Nothing a client says about a file is trusted: not its name, not its declared type. The
bytes are opened with Pillow; only JPEG, PNG, GIF and WebP are taken, and their declared
size is checked before a pixel is decoded, so a small file that unpacks into gigabytes (a
decompression bomb) is refused at the cost of reading its header. What is stored is
always re-encoded from the decoded pixels: EXIF (GPS included), XMP and comments are not
carried over, and the EXIF orientation is applied to the pixels instead.

Animated GIF and WebP stay animated images (type ``image``): Mastodon turns them into
silent videos (``gifv``) that clients play in a video element, which an image file would
break. Their preview is the first frame.

Everything here is CPU work on bytes: call it in a worker thread (``media.service``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Literal

import blurhash
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

# What a formatted upload may be, by Pillow's format name.
ACCEPTED_FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}
SUPPORTED_MIME_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"]
PREVIEW_SIDE = 400
AVATAR_SIZE = (400, 400)
HEADER_SIZE = (1500, 500)
# The blurhash is computed on a thumbnail this wide: its cost does not grow with the image.
_BLURHASH_SIDE = 32
_JPEG_QUALITY = 85

Kind = Literal["attachment", "avatar", "header"]


class Refused(Exception):
    """The upload is not an image Chirp takes; the message says why (shown to the user)."""


@dataclass(frozen=True)
class Limits:
    """What an upload may be, from the settings."""

    max_pixels: int
    max_frames: int
    max_side: int


@dataclass(frozen=True)
class Rendition:
    """One stored file: its bytes, type and size in pixels."""

    data: bytes
    content_type: str
    width: int
    height: int


@dataclass(frozen=True)
class Processed:
    """What an upload became: the resized original, its preview, and its blurhash."""

    original: Rendition
    small: Rendition
    blurhash: str
    animated: bool


def process(data: bytes, *, limits: Limits, kind: Kind = "attachment") -> Processed:
    """Decode ``data`` and make the files to store, or raise ``Refused``."""
    if not data:
        raise Refused("The file is empty")
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise Refused(f"The image is too large (at most {limits.max_pixels} pixels)") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise Refused("The file is not an image (JPEG, PNG, GIF or WebP)") from exc
    with image:
        if image.format not in ACCEPTED_FORMATS:
            raise Refused("The file is not an image (JPEG, PNG, GIF or WebP)")
        width, height = image.size
        if width < 1 or height < 1 or width * height > limits.max_pixels:
            raise Refused(f"The image is too large (at most {limits.max_pixels} pixels)")
        try:
            return _render(image, limits=limits, kind=kind)
        except Refused:
            raise
        except (Image.DecompressionBombError, OSError, ValueError, SyntaxError, EOFError) as exc:
            # Truncated or corrupt data: it fails only once the pixels are decoded.
            raise Refused("The image is damaged or incomplete") from exc


def _render(image: Image.Image, *, limits: Limits, kind: Kind) -> Processed:
    frames = _frames(image, limits)
    animated = len(frames) > 1 and kind == "attachment"
    first = _upright(frames[0], image)
    if kind == "avatar":
        first = ImageOps.fit(first, AVATAR_SIZE)
    elif kind == "header":
        first = ImageOps.fit(first, HEADER_SIZE)
    if animated:
        original = _animation(frames, image, limits.max_side)
    else:
        original = _still(_fit(first, limits.max_side), image.format or "PNG")
    preview = _fit(first, PREVIEW_SIDE)
    # From the preview: the cost of the blurhash does not grow with the upload.
    return Processed(original, _still(preview, "PREVIEW"), _blurhash(preview), animated)


def _frames(image: Image.Image, limits: Limits) -> list[Image.Image]:
    """The decoded frames (one for a still image), refusing too many before decoding more."""
    frames: list[Image.Image] = []
    pixels = 0
    frame_pixels = image.size[0] * image.size[1]
    if image.format == "JPEG":
        # Decoded straight at a smaller scale (a power of two) when the stored image is to
        # be smaller anyway: a 48 MP photo costs a quarter of the time and memory.
        side = max(limits.max_side, HEADER_SIZE[0])
        image.draft("RGB", (side, side))
    # Still images without transparency are kept in RGB (a quarter less memory than RGBA).
    mode = "RGBA" if _has_alpha(image) or getattr(image, "is_animated", False) else "RGB"
    for frame in ImageSequence.Iterator(image):
        if len(frames) >= limits.max_frames:
            raise Refused(f"The animation has too many frames (at most {limits.max_frames})")
        pixels += frame_pixels
        if pixels > limits.max_pixels:
            raise Refused(
                f"The animation is too large (at most {limits.max_pixels} pixels in all frames)"
            )
        frames.append(frame.convert(mode))
    return frames


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info


def _upright(frame: Image.Image, source: Image.Image) -> Image.Image:
    """The frame turned as the source's EXIF orientation says (the tag itself is dropped)."""
    orientation = source.getexif().get(0x0112, 1)
    if orientation in (1, None):
        return frame
    turned = frame.copy()
    turned.info["exif"] = source.info.get("exif", b"")
    upright = ImageOps.exif_transpose(turned)
    return upright if upright is not None else frame


def _fit(image: Image.Image, side: int) -> Image.Image:
    """The image scaled down so its longest side is at most ``side``."""
    if max(image.size) <= side:
        return image
    scaled = image.copy()
    scaled.thumbnail((side, side), Image.Resampling.LANCZOS)
    return scaled


def _opaque(image: Image.Image) -> bool:
    if image.mode != "RGBA":
        return True
    low, _high = image.getchannel("A").getextrema()
    return bool(low == 255)


def _still(image: Image.Image, source_format: str) -> Rendition:
    """One still image encoded from its pixels alone (no metadata is carried over)."""
    opaque = _opaque(image)
    if source_format == "WEBP":
        fmt, content_type, options = "WEBP", "image/webp", {"quality": _JPEG_QUALITY}
    elif opaque and source_format in ("JPEG", "PREVIEW"):
        fmt, content_type = "JPEG", "image/jpeg"
        options = {"quality": _JPEG_QUALITY, "optimize": True}
    else:
        fmt, content_type, options = "PNG", "image/png", {"optimize": True}
    pixels = image.convert("RGB" if opaque or fmt == "JPEG" else "RGBA")
    pixels.info = {}
    out = io.BytesIO()
    pixels.save(out, fmt, **options)
    return Rendition(out.getvalue(), content_type, pixels.width, pixels.height)


def _animation(frames: list[Image.Image], source: Image.Image, side: int) -> Rendition:
    """An animated image re-encoded frame by frame, in its own format, scaled down."""
    fitted = [_fit(frame, side) for frame in frames]
    durations = [int(frame.info.get("duration", 100) or 100) for frame in frames]
    loop = int(source.info.get("loop", 0))
    out = io.BytesIO()
    if source.format == "WEBP":
        fmt, content_type = "WEBP", "image/webp"
    else:
        fmt, content_type = "GIF", "image/gif"
    cleaned = [frame.copy() for frame in fitted]
    for frame in cleaned:
        frame.info = {}
    cleaned[0].save(
        out,
        fmt,
        save_all=True,
        append_images=cleaned[1:],
        duration=durations,
        loop=loop,
        disposal=2,
    )
    return Rendition(out.getvalue(), content_type, cleaned[0].width, cleaned[0].height)


def _blurhash(image: Image.Image) -> str:
    """The blurhash of a small thumbnail (its cost does not depend on the image's size)."""
    thumb = image.convert("RGB")
    thumb.thumbnail((_BLURHASH_SIDE, _BLURHASH_SIDE))
    width, height = thumb.size
    data = thumb.tobytes()
    rows = [
        [list(data[(y * width + x) * 3 : (y * width + x) * 3 + 3]) for x in range(width)]
        for y in range(height)
    ]
    components_x, components_y = (4, 3) if width >= height else (3, 4)
    return str(blurhash.encode(rows, components_x=components_x, components_y=components_y))
