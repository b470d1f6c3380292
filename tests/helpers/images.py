"""Image files for tests: degraded/target folders, and files an image library cannot make."""

import struct
import zlib

import numpy as np
from PIL import Image


def png_header_only(width, height):
    """A PNG whose header says `width` x `height` (8-bit RGB) and whose pixel data is a stub.

    The shape of an image bomb: a few bytes on disk that would decode to `width * height * 3`.
    """

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def write_noisy_pair(folder, name, seed, noise, shape=(36, 44, 3)):
    """Writes `folder/input/name` (the target plus clipped Gaussian noise) and `folder/target/name`.

    Returns `(degraded, target)` as uint8 arrays.
    """
    rng = np.random.default_rng(seed)
    target = rng.integers(40, 200, shape, dtype=np.uint8)
    degraded = np.clip(target + rng.normal(0, noise, target.shape), 0, 255).astype(np.uint8)
    for kind, image in (("input", degraded), ("target", target)):
        (folder / kind).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / kind / name)
    return degraded, target
