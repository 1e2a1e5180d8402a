from __future__ import annotations

import io
import zipfile

import pytest

from cases.evidence_files import (
    ALLOWED_EVIDENCE_TYPES,
    MAX_EVIDENCE_BYTES,
    MAX_EVIDENCE_FILES,
    MAX_IMAGE_PIXELS,
    EvidenceCheck,
    check_evidence_file,
    image_size,
    safe_filename,
    sniff_media_type,
)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

PDF_HEAD = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
# A JFIF header, then the frame header of a 1920 x 1080 picture (SOF0).
JPEG_HEAD = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    b"\xff\xc0\x00\x11\x08\x04\x38\x07\x80\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01"
)
PNG_HEAD = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
MP3_HEAD = b"\xff\xfb\x90\x64\x00"
EXE_HEAD = b"MZ\x90\x00\x03\x00\x00\x00"


def ftyp(brand: bytes) -> bytes:
    return b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x02\x00isommp41"


def zip_of(*names: str, filler: bytes = b"x") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name in names:
            archive.writestr(name, filler)
    return buffer.getvalue()


def local_header(name: bytes) -> bytes:
    # A bare ZIP local file header: version, flags, method, time, date, crc, sizes, lengths.
    fields = b"\x14\x00" + b"\x08\x00" + b"\x00\x00" + b"\x00" * 8 + b"\x00" * 8
    return b"PK\x03\x04" + fields + len(name).to_bytes(2, "little") + b"\x00\x00" + name


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        pytest.param(PDF_HEAD, "application/pdf", id="pdf"),
        pytest.param(JPEG_HEAD, "image/jpeg", id="jpeg-jfif"),
        pytest.param(b"\xff\xd8\xff\xe1\x00\x00Exif", "image/jpeg", id="jpeg-exif"),
        pytest.param(PNG_HEAD, "image/png", id="png"),
        pytest.param(b"\x89PNG\r\n", None, id="png-truncated-signature"),
        pytest.param(b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp", id="webp"),
        pytest.param(b"RIFF\x24\x00\x00\x00WAVEfmt ", None, id="riff-wave"),
        pytest.param(b"GIF87a\x01\x00\x01\x00", "image/gif", id="gif87a"),
        pytest.param(b"GIF89a\x01\x00\x01\x00", "image/gif", id="gif89a"),
        pytest.param(ftyp(b"isom"), "video/mp4", id="mp4-isom"),
        pytest.param(ftyp(b"mp41"), "video/mp4", id="mp4-mp41"),
        pytest.param(ftyp(b"mp42"), "video/mp4", id="mp4-mp42"),
        pytest.param(ftyp(b"avc1"), "video/mp4", id="mp4-avc1"),
        pytest.param(ftyp(b"M4V "), "video/mp4", id="mp4-m4v"),
        pytest.param(ftyp(b"qt  "), "video/mp4", id="quicktime"),
        pytest.param(ftyp(b"M4A "), "audio/mp4", id="m4a"),
        pytest.param(ftyp(b"heic"), None, id="heic-not-allowed"),
        pytest.param(ftyp(b"3gp4"), None, id="3gp-not-allowed"),
        pytest.param(b"\x00\x00\x00\x18ftyp", None, id="ftyp-without-brand"),
        pytest.param(b"ID3\x04\x00\x00\x00\x00\x00\x00", "audio/mpeg", id="mp3-id3"),
        pytest.param(MP3_HEAD, "audio/mpeg", id="mp3-mpeg1-layer3"),
        pytest.param(b"\xff\xf3\x64\xc4", "audio/mpeg", id="mp3-mpeg2-layer3"),
        pytest.param(b"\xff\xe3\x18\xc4", "audio/mpeg", id="mp3-mpeg25-layer3"),
        pytest.param(b"\xff\xfd\x90\x00", "audio/mpeg", id="mp2-mpeg1-layer2"),
        pytest.param(b"\xff\xe0\x90\x00", None, id="mpeg-reserved-layer"),
        pytest.param(b"\xff\xeb\x90\x00", None, id="mpeg-reserved-version"),
        pytest.param(b"\xff\xfb\xf0\x00", None, id="mpeg-bad-bitrate"),
        pytest.param(b"\xff\xfb\x9c\x00", None, id="mpeg-reserved-sample-rate"),
        pytest.param(b"\xff\xfb", None, id="mpeg-sync-only"),
        pytest.param("\ufeffhello".encode("utf-16-le"), None, id="utf16-le-bom"),
        pytest.param(
            zip_of("[Content_Types].xml", "_rels/.rels", "word/document.xml"), DOCX, id="docx"
        ),
        pytest.param(local_header(b"word/document.xml"), DOCX, id="docx-bare-header"),
        pytest.param(zip_of("[Content_Types].xml", "xl/workbook.xml"), None, id="xlsx"),
        pytest.param(zip_of("[Content_Types].xml", "ppt/presentation.xml"), None, id="pptx"),
        pytest.param(zip_of("notes.txt"), None, id="plain-zip"),
        pytest.param(zip_of("notword/x.xml"), None, id="word-not-at-name-start"),
        pytest.param(
            zip_of("[Content_Types].xml", "word/document.xml", filler=b"\x01" * 9000),
            None,
            id="docx-word-entry-beyond-8k",
        ),
        pytest.param(b"PK\x03\x04\x14\x00", None, id="zip-truncated-header"),
        pytest.param(EXE_HEAD, None, id="windows-pe"),
        pytest.param(b"MZ is also my initials", None, id="mz-text"),
        pytest.param(b"\x7fELF\x02\x01\x01\x00", None, id="elf"),
        pytest.param(b"\xcf\xfa\xed\xfe\x07\x00\x00\x01", None, id="mach-o"),
        pytest.param(b"#!/bin/sh\nrm -rf /\n", None, id="shebang-script"),
        pytest.param(b"<!DOCTYPE html><html><body>hi", None, id="html-doctype"),
        pytest.param(b"<html><script>alert(1)</script>", None, id="html"),
        pytest.param(b"  \r\n\t<html>", None, id="html-after-whitespace"),
        pytest.param(b'<svg xmlns="http://www.w3.org/2000/svg"/>', None, id="svg"),
        pytest.param(b"\xef\xbb\xbf <svg onload=alert(1)>", None, id="svg-after-bom"),
        pytest.param(b'<?xml version="1.0"?><svg/>', None, id="xml-prolog"),
        pytest.param(b"hello, world\n", "text/plain", id="ascii-text"),
        pytest.param("调解协议：甲乙双方\u3000同意。\n".encode(), "text/plain", id="chinese-utf8"),
        pytest.param(b"\xef\xbb\xbfnotes\r\n", "text/plain", id="text-with-bom"),
        pytest.param("调解".encode()[:-1], "text/plain", id="cut-mid-character"),
        pytest.param(b"a" * 8192 + b"\x00", "text/plain", id="nul-beyond-8k-ignored"),
        pytest.param(b"abc\x00def", None, id="nul-byte"),
        pytest.param(b"\xc3\x28abc", None, id="invalid-utf8"),
        pytest.param("调解协议".encode("gbk"), None, id="gbk-not-utf8"),
        pytest.param(b"\x01\x02\x03\x04abc", None, id="mostly-control-chars"),
        pytest.param(b"\xef\xbb\xbf", None, id="bom-only"),
        pytest.param(b"", None, id="empty"),
    ],
)
def test_sniff_media_type(head: bytes, expected: str | None) -> None:
    assert sniff_media_type(head) == expected


def test_allowed_types_are_exactly_the_sniffable_ones() -> None:
    assert set(ALLOWED_EVIDENCE_TYPES) == {
        "application/pdf",
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/gif",
        "video/mp4",
        "audio/mp4",
        "audio/mpeg",
        DOCX,
        "text/plain",
    }
    for extensions in ALLOWED_EVIDENCE_TYPES.values():
        assert extensions
        assert all(ext.startswith(".") and ext == ext.lower() for ext in extensions)


def test_limits() -> None:
    assert (MAX_EVIDENCE_BYTES, MAX_EVIDENCE_FILES) == (20 * 1024 * 1024, 10)


@pytest.mark.parametrize(
    ("filename", "head", "size", "expected"),
    [
        pytest.param("合同.pdf", PDF_HEAD, 1000, EvidenceCheck("application/pdf", None), id="pdf"),
        pytest.param("PHOTO.JPG", JPEG_HEAD, 10, EvidenceCheck("image/jpeg", None), id="upper-ext"),
        pytest.param("a.Jpeg", JPEG_HEAD, 10, EvidenceCheck("image/jpeg", None), id="jpeg-ext"),
        pytest.param("scan", PDF_HEAD, 10, EvidenceCheck("application/pdf", None), id="no-ext"),
        pytest.param("录音.MP3", MP3_HEAD, 10, EvidenceCheck("audio/mpeg", None), id="mp3"),
        pytest.param("v.mov", ftyp(b"qt  "), 10, EvidenceCheck("video/mp4", None), id="mov"),
        pytest.param("v.m4a", ftyp(b"M4A "), 10, EvidenceCheck("audio/mp4", None), id="m4a"),
        pytest.param(
            "C:\\Users\\a\\协议.docx",
            local_header(b"word/document.xml"),
            10,
            EvidenceCheck(DOCX, None),
            id="docx-windows-path",
        ),
        pytest.param("n.txt", b"hello\n", 6, EvidenceCheck("text/plain", None), id="txt"),
        pytest.param(
            "max.pdf",
            PDF_HEAD,
            MAX_EVIDENCE_BYTES,
            EvidenceCheck("application/pdf", None),
            id="exactly-max-size",
        ),
        pytest.param("a.pdf", PDF_HEAD, 0, EvidenceCheck(None, "evidence_empty"), id="size-0"),
        pytest.param("a.pdf", b"", 10, EvidenceCheck(None, "evidence_empty"), id="no-head"),
        pytest.param(
            "a.pdf",
            PDF_HEAD,
            MAX_EVIDENCE_BYTES + 1,
            EvidenceCheck(None, "evidence_too_large"),
            id="one-byte-too-large",
        ),
        pytest.param(
            "a.exe",
            EXE_HEAD,
            MAX_EVIDENCE_BYTES + 1,
            EvidenceCheck(None, "evidence_too_large"),
            id="size-checked-before-type",
        ),
        pytest.param(
            "report.pdf",
            EXE_HEAD,
            10,
            EvidenceCheck(None, "evidence_type_not_allowed"),
            id="exe-named-pdf",
        ),
        pytest.param(
            "a.txt",
            b"<!DOCTYPE html><html>",
            10,
            EvidenceCheck(None, "evidence_type_not_allowed"),
            id="html-named-txt",
        ),
        pytest.param(
            "a.svg",
            b"<svg/>",
            6,
            EvidenceCheck(None, "evidence_type_not_allowed"),
            id="svg",
        ),
        pytest.param(
            "photo.jpg",
            ftyp(b"heic"),
            10,
            EvidenceCheck(None, "evidence_type_not_allowed"),
            id="heic",
        ),
        pytest.param(
            "photo.jpg",
            PDF_HEAD,
            10,
            EvidenceCheck("application/pdf", "evidence_extension_mismatch"),
            id="pdf-named-jpg",
        ),
        pytest.param(
            "photo.jpg.exe",
            JPEG_HEAD,
            10,
            EvidenceCheck("image/jpeg", "evidence_extension_mismatch"),
            id="double-extension",
        ),
        pytest.param(
            "协议.doc",
            local_header(b"word/document.xml"),
            10,
            EvidenceCheck(DOCX, "evidence_extension_mismatch"),
            id="docx-named-doc",
        ),
        pytest.param(
            "notes.md",
            b"# notes\n",
            8,
            EvidenceCheck("text/plain", "evidence_extension_mismatch"),
            id="text-named-md",
        ),
        pytest.param(
            "clip.mp3",
            ftyp(b"M4A "),
            10,
            EvidenceCheck("audio/mp4", "evidence_extension_mismatch"),
            id="m4a-named-mp3",
        ),
    ],
)
def test_check_evidence_file(
    filename: str, head: bytes, size: int, expected: EvidenceCheck
) -> None:
    assert check_evidence_file(filename, head, size) == expected


def test_evidence_check_ok() -> None:
    assert check_evidence_file("a.pdf", PDF_HEAD, 10).ok is True
    assert check_evidence_file("a.jpg", PDF_HEAD, 10).ok is False


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("../../etc/passwd", "passwd", id="unix-traversal"),
        pytest.param("C:\\x\\证据.pdf", "证据.pdf", id="windows-path"),
        pytest.param("..\\..\\boot.ini", "boot.ini", id="windows-traversal"),
        pytest.param("a/b\\c.txt", "c.txt", id="mixed-separators"),
        pytest.param(".hidden", "hidden", id="leading-dot"),
        pytest.param("...pdf", "pdf", id="leading-dots"),
        pytest.param("  report.pdf  ", "report.pdf", id="surrounding-space"),
        pytest.param("report.pdf. . ", "report.pdf", id="trailing-dots-and-spaces"),
        pytest.param("a\x00b\nc\td.txt", "abcd.txt", id="control-chars"),
        pytest.param("evil\u202egpj.exe", "evilgpj.exe", id="bidi-override"),
        pytest.param('a:b*c?"d".pdf', "a_b_c__d_.pdf", id="windows-reserved"),
        pytest.param("调解协议书（最终版）.docx", "调解协议书（最终版）.docx", id="chinese-kept"),
        pytest.param("长" * 200 + ".pdf", "长" * 116 + ".pdf", id="long-chinese-keeps-ext"),
        pytest.param("a" * 200 + ".JPEG", "a" * 115 + ".JPEG", id="long-keeps-ext-case"),
        pytest.param("a" * 200, "a" * 120, id="long-no-ext"),
        pytest.param("a." + "b" * 200, "a." + "b" * 118, id="long-ext-not-kept"),
        pytest.param("a" * 120 + ".pdf", "a" * 116 + ".pdf", id="just-over-limit"),
        pytest.param("a" * 116 + ".pdf", "a" * 116 + ".pdf", id="exactly-limit"),
        pytest.param("", "evidence", id="empty"),
        pytest.param("../", "evidence", id="directory-only"),
        pytest.param("..", "evidence", id="dot-dot"),
        pytest.param("\x00\x01\x1f", "evidence", id="controls-only"),
        pytest.param("   ", "evidence", id="blank"),
    ],
)
def test_safe_filename(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


# --- decompression bombs: the declared pixel size, read from the header -------------------------


def png(width: int, height: int) -> bytes:
    """A real PNG header (signature and IHDR chunk with its CRC) declaring this size, and the
    few bytes of one compressed empty row: what a decompression bomb looks like."""
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    body = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
        + struct.pack(">I", len(body))
        + b"IDAT"
        + body
        + struct.pack(">I", zlib.crc32(b"IDAT" + body))
    )


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + width.to_bytes(2, "little") + height.to_bytes(2, "little") + b"\x00" * 8


def jpeg(width: int, height: int, metadata: int = 0) -> bytes:
    app1 = b"\xff\xe1" + (metadata + 2).to_bytes(2, "big") + b"x" * metadata
    sof = b"\xff\xc2\x00\x11\x08" + height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return JPEG_HEAD[:20] + app1 + sof + b"\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01\xff\xda"


def webp(kind: bytes, width: int, height: int) -> bytes:
    if kind == b"VP8 ":
        data = (
            b"\x00\x00\x00\x9d\x01\x2a" + width.to_bytes(2, "little") + height.to_bytes(2, "little")
        )
    elif kind == b"VP8L":
        data = b"\x2f" + ((width - 1) | ((height - 1) << 14)).to_bytes(4, "little")
    else:
        data = b"\x00" * 4 + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF\x00\x00\x00\x00WEBP" + kind + len(data).to_bytes(4, "little") + data


@pytest.mark.parametrize(
    ("media_type", "data", "size"),
    [
        ("image/png", png(1920, 1080), (1920, 1080)),
        ("image/png", png(100_000, 100_000), (100_000, 100_000)),
        ("image/gif", gif(640, 480), (640, 480)),
        ("image/jpeg", JPEG_HEAD, (1920, 1080)),
        ("image/jpeg", jpeg(4000, 3000, metadata=60_000), (4000, 3000)),
        ("image/webp", webp(b"VP8 ", 800, 600), (800, 600)),
        ("image/webp", webp(b"VP8L", 16383, 2), (16383, 2)),
        ("image/webp", webp(b"VP8X", 16_777_216, 1), (16_777_216, 1)),
        ("image/png", png(1, 1)[:20], None),
        ("image/jpeg", b"\xff\xd8\xff\xda\x00\x02", None),
        ("image/jpeg", b"\xff\xd8\xff\xe1\xff\xff", None),
        ("image/webp", b"RIFF\x00\x00\x00\x00WEBPVP8 ", None),
        ("application/pdf", PDF_HEAD, None),
    ],
)
def test_image_size_read_from_the_header(
    media_type: str, data: bytes, size: tuple[int, int] | None
) -> None:
    assert image_size(media_type, data) == size


def test_a_png_bomb_is_refused_before_it_is_decoded() -> None:
    bomb = png(100_000, 100_000)  # 10 gigapixels declared, in about a hundred bytes
    assert len(bomb) < 200
    check = check_evidence_file("截图.png", bomb[:8192], len(bomb), content=bomb)
    assert check == EvidenceCheck("image/png", "evidence_image_too_large")


@pytest.mark.parametrize(
    ("name", "data", "error"),
    [
        ("a.png", png(10_000, 5_000), None),  # exactly 50 megapixels
        ("a.png", png(10_000, 5_001), "evidence_image_too_large"),
        ("a.png", png(0, 10), "evidence_image_too_large"),
        ("long.png", png(1080, 40_000), None),  # a long chat screenshot
        ("a.gif", gif(65535, 65535), "evidence_image_too_large"),
        ("a.jpg", jpeg(65535, 65535), "evidence_image_too_large"),
        ("a.jpg", jpeg(4000, 3000, metadata=60_000), None),
        ("a.webp", webp(b"VP8X", 16_777_216, 16_777_216), "evidence_image_too_large"),
        ("a.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF", "evidence_image_unreadable"),
    ],
)
def test_images_over_the_pixel_limit_are_refused(name: str, data: bytes, error: str | None) -> None:
    assert MAX_IMAGE_PIXELS == 50_000_000
    check = check_evidence_file(name, data[:8192], len(data), content=data)
    assert check.error == error
