"""Checking an uploaded evidence file by its content, not by what the browser claims.

The declared Content-Type and the file name are both chosen by the uploader, so the media type
comes from the leading bytes alone and the name's extension must agree with it. Errors are
stable codes; the web shell turns them into translated sentences. Pure; table-tested.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from typing import Final

MAX_EVIDENCE_BYTES: Final = 20 * 1024 * 1024
MAX_EVIDENCE_FILES: Final = 10
SNIFF_BYTES: Final = 8 * 1024

PDF: Final = "application/pdf"
JPEG: Final = "image/jpeg"
PNG: Final = "image/png"
WEBP: Final = "image/webp"
GIF: Final = "image/gif"
MP4_VIDEO: Final = "video/mp4"
MP4_AUDIO: Final = "audio/mp4"
MPEG_AUDIO: Final = "audio/mpeg"
DOCX: Final = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEXT: Final = "text/plain"

ALLOWED_EVIDENCE_TYPES: Final[dict[str, tuple[str, ...]]] = {
    PDF: (".pdf",),
    JPEG: (".jpg", ".jpeg"),
    PNG: (".png",),
    WEBP: (".webp",),
    GIF: (".gif",),
    # The QuickTime brand is filed under video/mp4 too, so phone recordings keep their .mov.
    MP4_VIDEO: (".mp4", ".m4v", ".mov"),
    MP4_AUDIO: (".m4a",),
    MPEG_AUDIO: (".mp3",),
    DOCX: (".docx",),
    TEXT: (".txt",),
}

EVIDENCE_EMPTY: Final = "evidence_empty"
EVIDENCE_TOO_LARGE: Final = "evidence_too_large"
EVIDENCE_TYPE_NOT_ALLOWED: Final = "evidence_type_not_allowed"
EVIDENCE_EXTENSION_MISMATCH: Final = "evidence_extension_mismatch"
EVIDENCE_IMAGE_TOO_LARGE: Final = "evidence_image_too_large"
EVIDENCE_IMAGE_UNREADABLE: Final = "evidence_image_unreadable"

# Decoded size an image may have: a few kilobytes of PNG or GIF can declare a picture of
# billions of pixels (a decompression bomb) that would take gigabytes to show. 50 megapixels
# holds any phone photo and a long chat screenshot (1080 x 40000); the sides are also bounded
# by what the formats themselves allow.
MAX_IMAGE_PIXELS: Final = 50_000_000
IMAGE_TYPES: Final = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})

_VIDEO_BRANDS = frozenset({b"isom", b"mp41", b"mp42", b"avc1", b"M4V ", b"qt  "})
_AUDIO_BRANDS = frozenset({b"M4A "})

_ZIP_LOCAL_HEADER = b"PK\x03\x04"
_ZIP_NAME_LENGTH_AT = 26
_ZIP_NAME_AT = 30

# Native executables: Windows PE, ELF, Mach-O (both byte orders, 32/64-bit and universal).
_EXECUTABLE_MAGIC = (
    b"MZ",
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"#!",
)
_UTF8_BOM = b"\xef\xbb\xbf"
_MIN_PRINTABLE_SHARE = 0.95

_WINDOWS_RESERVED = re.compile(r'[<>:"|?*]')
_FALLBACK_NAME = "evidence"
MAX_FILENAME_CHARS: Final = 120
# A longer "extension" is really part of the name, and keeping it would leave no stem.
_MAX_EXTENSION_CHARS = 16


@dataclass(frozen=True, slots=True)
class EvidenceCheck:
    media_type: str | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


def _is_mpeg_audio_frame(head: bytes) -> bool:
    if len(head) < 3 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0b11
    layer = (head[1] >> 1) & 0b11
    bitrate = head[2] >> 4
    sample_rate = (head[2] >> 2) & 0b11
    # Layers II and III only (binary 10 and 01): Layer I is extinct in practice, and its
    # headers FF FE / FF FF are also the UTF-16 byte-order mark.
    return version != 0b01 and layer in (0b01, 0b10) and bitrate != 0b1111 and sample_rate != 0b11


def _zip_has_word_entry(head: bytes) -> bool:
    # Scanning for every local header, rather than hopping by compressed size, still finds
    # entries written with a trailing data descriptor, whose header says size 0.
    at = head.find(_ZIP_LOCAL_HEADER)
    while at != -1:
        length_at = at + _ZIP_NAME_LENGTH_AT
        if length_at + 2 > len(head):
            return False
        name_length = int.from_bytes(head[length_at : length_at + 2], "little")
        name = head[at + _ZIP_NAME_AT : at + _ZIP_NAME_AT + name_length]
        # xlsx and pptx share [Content_Types].xml; only a word/ part makes it a document.
        if name.startswith(b"word/"):
            return True
        at = head.find(_ZIP_LOCAL_HEADER, at + 4)
    return False


def _is_markup(head: bytes) -> bool:
    # HTML, SVG and XML can carry script that runs if the file is ever served inline.
    return head.removeprefix(_UTF8_BOM).lstrip().startswith(b"<")


def _is_plain_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    # The head may end mid-character; an incremental decoder holds that back instead of failing.
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    text = text.removeprefix("\ufeff")
    if not text:
        return False
    # isspace() as well, because isprintable() rejects the ideographic space of Chinese text.
    printable = sum(1 for ch in text if ch.isprintable() or ch.isspace())
    return printable >= _MIN_PRINTABLE_SHARE * len(text)


def sniff_media_type(head: bytes) -> str | None:
    """The allowed media type the leading bytes show, or None if unknown or not allowed."""
    head = head[:SNIFF_BYTES]
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _VIDEO_BRANDS:
            return MP4_VIDEO
        if brand in _AUDIO_BRANDS:
            return MP4_AUDIO
        return None
    if head.startswith(b"ID3") or _is_mpeg_audio_frame(head):
        return MPEG_AUDIO
    if head.startswith(_ZIP_LOCAL_HEADER):
        return DOCX if _zip_has_word_entry(head) else None
    # Both checks come before text: scripts and markup are valid UTF-8 too.
    if head.startswith(_EXECUTABLE_MAGIC) or _is_markup(head):
        return None
    if _is_plain_text(head):
        return TEXT
    return None


def _extension(filename: str) -> str:
    stem, dot, ext = filename.rpartition(".")
    return f".{ext.lower()}" if dot and stem else ""


def _u16be(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 2], "big")


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    # Walk the segments to the first start-of-frame (SOF0-15 but DHT, JPG and DAC), whose
    # header holds the frame's height and width; a scan before any frame is a broken file.
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # no length
            at += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan
            return None
        length = _u16be(data, at + 2)
        if length < 2:
            return None
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if at + 9 > len(data):
                return None
            return _u16be(data, at + 7), _u16be(data, at + 5)
        at += 2 + length
    return None


def image_size(media_type: str, data: bytes) -> tuple[int, int] | None:
    """(width, height) an image declares in its header, read without decoding it; None if
    the header cannot be read. `media_type` is the sniffed one."""
    if media_type == PNG:
        if len(data) < 24 or data[12:16] != b"IHDR":
            return None
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if media_type == GIF:
        if len(data) < 10:
            return None
        return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    if media_type == WEBP:
        chunk = data[12:16]
        if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
            width = int.from_bytes(data[26:28], "little") & 0x3FFF
            return width, int.from_bytes(data[28:30], "little") & 0x3FFF
        if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
            bits = int.from_bytes(data[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        if chunk == b"VP8X" and len(data) >= 30:
            width = int.from_bytes(data[24:27], "little") + 1
            return width, int.from_bytes(data[27:30], "little") + 1
        return None
    if media_type == JPEG:
        return _jpeg_size(data)
    return None


def image_too_large(media_type: str, data: bytes) -> bool | None:
    """Whether an image declares more than MAX_IMAGE_PIXELS (None: its size is unreadable;
    False for anything that is not an image)."""
    if media_type not in IMAGE_TYPES:
        return False
    size = image_size(media_type, data)
    if size is None:
        return None
    width, height = size
    return width <= 0 or height <= 0 or width * height > MAX_IMAGE_PIXELS


def check_evidence_file(
    filename: str, head: bytes, size: int, content: bytes | None = None
) -> EvidenceCheck:
    """`head` is the first SNIFF_BYTES; `content` the whole file, when at hand, so that an
    image's declared size can be checked wherever its header puts it (a JPEG's frame header
    may come after long metadata)."""
    if size <= 0 or not head:
        return EvidenceCheck(None, EVIDENCE_EMPTY)
    if size > MAX_EVIDENCE_BYTES:
        return EvidenceCheck(None, EVIDENCE_TOO_LARGE)
    media_type = sniff_media_type(head)
    if media_type is None:
        return EvidenceCheck(None, EVIDENCE_TYPE_NOT_ALLOWED)
    # The extension of the name that will be stored, not of the raw one, is what a later
    # download will be opened by.
    extension = _extension(safe_filename(filename))
    if extension and extension not in ALLOWED_EVIDENCE_TYPES[media_type]:
        return EvidenceCheck(media_type, EVIDENCE_EXTENSION_MISMATCH)
    too_large = image_too_large(media_type, head if content is None else content)
    if too_large is None:
        return EvidenceCheck(media_type, EVIDENCE_IMAGE_UNREADABLE)
    if too_large:
        return EvidenceCheck(media_type, EVIDENCE_IMAGE_TOO_LARGE)
    return EvidenceCheck(media_type, None)


def safe_filename(name: str) -> str:
    """A display and download name: no directories, controls or hidden-file dot."""
    base = re.split(r"[/\\]", name)[-1]
    # All of category C, so bidirectional overrides cannot disguise "gpj.exe" as "exe.jpg".
    base = "".join(ch for ch in base if not unicodedata.category(ch).startswith("C"))
    # Windows refuses these, and a quote would break a naive Content-Disposition header.
    base = _WINDOWS_RESERVED.sub("_", base)
    # Windows drops trailing dots and spaces, so "a.pdf." would open as a PDF there.
    base = base.strip().lstrip(".").strip().rstrip(". ")
    if len(base) > MAX_FILENAME_CHARS:
        extension = _extension(base)
        if 1 < len(extension) <= _MAX_EXTENSION_CHARS:
            original_extension = base[len(base) - len(extension) :]
            stem = base[: MAX_FILENAME_CHARS - len(extension)].rstrip(". ")
            base = stem + original_extension
        else:
            base = base[:MAX_FILENAME_CHARS].rstrip(". ")
    return base or _FALLBACK_NAME
