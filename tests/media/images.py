"""Images made in the tests with Pillow: ordinary ones and hostile ones."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

# A GPS latitude Chirp must never store.
GPS_MARK = "N"


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    """``image`` saved as ``fmt``."""
    out = io.BytesIO()
    image.save(out, fmt, **options)  # type: ignore[arg-type]
    return out.getvalue()


def jpeg(width: int = 600, height: int = 400, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A plain JPEG."""
    return encode(Image.new("RGB", (width, height), color), "JPEG")


def png(width: int = 300, height: int = 200, color: tuple[int, int, int] = (20, 160, 40)) -> bytes:
    """A plain PNG."""
    return encode(Image.new("RGB", (width, height), color), "PNG")


def jpeg_with_exif(orientation: int = 6, width: int = 300, height: int = 100) -> bytes:
    """A JPEG with EXIF orientation and GPS position, left half red and right half blue."""
    image = Image.new("RGB", (width, height), (255, 0, 0))
    image.paste((0, 0, 255), (width // 2, 0, width, height))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "SecretCam"  # Make
    gps = exif.get_ifd(0x8825)
    gps.update({1: GPS_MARK, 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)})
    return encode(image, "JPEG", exif=exif.tobytes())


def animated_gif(frames: int, size: int = 16) -> bytes:
    """An animated GIF whose frames all differ (identical frames would be merged)."""
    images = [Image.new("RGB", (size, size), (i % 256, (i // 256) * 60, 90)) for i in range(frames)]
    return encode(images[0], "GIF", save_all=True, append_images=images[1:], duration=40, loop=0)


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height`` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 1000)
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def truncated_jpeg() -> bytes:
    """The first half of a JPEG."""
    data = encode(Image.effect_noise((400, 400), 60).convert("RGB"), "JPEG")
    return data[: len(data) // 2]
