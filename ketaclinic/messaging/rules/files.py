"""What an attached file is, from its first bytes (never its name or the browser's word), and
a safe name to offer it under. Pure: no Django."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class FileKind:
    content_type: str
    extension: str
    label: str


PDF: Final = FileKind("application/pdf", "pdf", "PDF")
PNG: Final = FileKind("image/png", "png", "PNG image")
JPEG: Final = FileKind("image/jpeg", "jpg", "JPEG image")
ALLOWED: Final = (PDF, PNG, JPEG)

# The signatures: PDF 1.7 (ISO 32000-1:2008, 7.5.2, the header "%PDF-"); PNG (ISO/IEC
# 15948:2004, 5.2, the 8-byte signature); JPEG/JFIF (ITU-T T.81, B.1.1.2: SOI marker FFD8,
# then a marker, FF).
_SIGNATURES: Final = (
    (b"%PDF-", PDF),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
)
HEAD_BYTES: Final = 8
NAME_MAX: Final = 100
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._ -]+")


def file_kind(head: bytes) -> FileKind | None:
    """The kind of a file from its first bytes; None for anything we do not take."""
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            return kind
    return None


def filename_safe(name: str, kind: FileKind) -> str:
    """A name to store and offer for download: no folders, ASCII letters, digits, dots,
    dashes, underscores and spaces only, at most ``NAME_MAX`` characters, ending in the
    extension of what the file really is ("../../Résumé.exe" as a PDF -> "Resume.exe.pdf")."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    base = _UNSAFE.sub("_", base).strip(" ._")
    stem, dot, extension = base.rpartition(".")
    if dot and extension.lower() in {k.extension for k in ALLOWED} | {"jpeg"}:
        base = stem.strip(" ._")
    base = base[: NAME_MAX - len(kind.extension) - 1] or "attachment"
    return f"{base}.{kind.extension}"
