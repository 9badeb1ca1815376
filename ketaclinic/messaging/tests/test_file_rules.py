"""Attachment kinds from the bytes, and safe file names: pure."""

from __future__ import annotations

import pytest

from ketaclinic.messaging.rules.files import JPEG, PDF, PNG, file_kind, filename_safe


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.7\n%", PDF),
        (b"\x89PNG\r\n\x1a\n", PNG),
        (b"\xff\xd8\xff\xe0\x00\x10JF", JPEG),
        (b"MZ\x90\x00", None),  # a Windows program
        (b"<html><scr", None),
        (b"GIF89a", None),
        (b"PK\x03\x04", None),  # a zip (or .docx)
        (b"", None),
    ],
)
def test_the_kind_comes_from_the_first_bytes(head: bytes, kind: object) -> None:
    assert file_kind(head) == kind


@pytest.mark.parametrize(
    ("name", "kind", "safe"),
    [
        ("lab results.pdf", PDF, "lab results.pdf"),
        ("../../etc/passwd", PDF, "passwd.pdf"),
        ("C:\\Users\\pat\\scan.JPEG", JPEG, "scan.jpg"),
        ("Résumé.exe", PDF, "Resume.exe.pdf"),
        ('a"b<c>.png', PNG, "a_b_c.png"),
        ("photo.pdf", PNG, "photo.png"),  # named a PDF, really a PNG
        ("", PDF, "attachment.pdf"),
        ("....", PNG, "attachment.png"),
        ("x" * 300 + ".pdf", PDF, "x" * 96 + ".pdf"),
    ],
)
def test_names_are_sanitised(name: str, kind: object, safe: str) -> None:
    assert filename_safe(name, kind) == safe  # type: ignore[arg-type]
