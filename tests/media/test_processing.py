"""Processing: uploads judged by decoding, re-encoded without metadata, the right way up."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from chirp.media.processing import Limits, Refused, process
from tests.media import images

LIMITS = Limits(max_pixels=50_000_000, max_frames=500, max_side=2048)


def _open(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_exif_and_gps_are_stripped_and_orientation_applied() -> None:
    source = images.jpeg_with_exif(orientation=6, width=300, height=100)
    assert b"SecretCam" in source  # the camera's EXIF is really in the upload
    done = process(source, limits=LIMITS)
    for stored in (done.original.data, done.small.data):
        assert b"SecretCam" not in stored and b"Exif" not in stored
        reopened = _open(stored)
        assert dict(reopened.getexif()) == {}
        assert reopened.getexif().get_ifd(0x8825) == {}
        assert "xmp" not in reopened.info and "exif" not in reopened.info
    # Orientation 6: turned a quarter clockwise, so 300x100 becomes 100x300, red on top.
    upright = _open(done.original.data).convert("RGB")
    assert upright.size == (100, 300)
    assert (done.original.width, done.original.height) == (100, 300)
    red, _, blue = upright.getpixel((50, 20))  # type: ignore[misc]
    assert red > 200 and blue < 60
    red, _, blue = upright.getpixel((50, 280))  # type: ignore[misc]
    assert blue > 200 and red < 60


def test_large_images_are_resized_with_a_preview_and_a_blurhash() -> None:
    done = process(images.jpeg(4000, 1000), limits=LIMITS)
    assert (done.original.width, done.original.height) == (2048, 512)
    assert (done.small.width, done.small.height) == (400, 100)
    assert _open(done.small.data).size == (400, 100)
    assert done.original.content_type == "image/jpeg"
    assert done.blurhash and 6 <= len(done.blurhash) <= 100
    small = process(images.png(200, 100), limits=LIMITS)
    assert (small.original.width, small.original.height) == (200, 100)
    assert small.original.content_type == "image/png"


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "empty"),
        (images.truncated_jpeg(), "damaged"),
        (b"GIF89a" + b"\0" * 40, "not an image"),
        (b"%PDF-1.4 not an image", "not an image"),
        (images.png_declaring(100_000, 100_000), "too large"),
        (images.png_declaring(10_000, 10_000), "too large"),
        (images.animated_gif(1000), "too many frames"),
    ],
    ids=["empty", "truncated", "fake-gif", "pdf", "bomb", "100-megapixels", "1000-frames"],
)
def test_hostile_files_are_refused(data: bytes, why: str) -> None:
    with pytest.raises(Refused, match=why):
        process(data, limits=LIMITS)


def test_a_file_is_judged_by_its_bytes_not_its_name() -> None:
    # Names and declared types never reach processing: a PNG is a PNG whatever it says.
    done = process(images.png(), limits=LIMITS)
    assert done.original.content_type == "image/png"
    gif = process(images.encode(Image.new("RGB", (20, 20), (1, 2, 3)), "GIF"), limits=LIMITS)
    assert gif.original.content_type == "image/png" and not gif.animated


def test_animations_stay_animated_with_a_still_preview() -> None:
    done = process(images.animated_gif(5, size=40), limits=LIMITS)
    assert done.animated and done.original.content_type == "image/gif"
    assert getattr(_open(done.original.data), "n_frames", 1) == 5
    assert getattr(_open(done.small.data), "n_frames", 1) == 1


def test_avatars_and_headers_are_cropped() -> None:
    avatar = process(images.jpeg(900, 300), limits=LIMITS, kind="avatar")
    assert (avatar.original.width, avatar.original.height) == (400, 400)
    header = process(images.jpeg(900, 900), limits=LIMITS, kind="header")
    assert (header.original.width, header.original.height) == (1500, 500)
