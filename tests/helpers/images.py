"""Image files for tests that cannot be made with an image library."""

import struct
import zlib


def png_header_only(width, height):
    """A PNG whose header says `width` x `height` (8-bit RGB) and whose pixel data is a stub.

    The shape of an image bomb: a few bytes on disk that would decode to `width * height * 3`.
    """

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
