"""Attached files: checked whole before anything is written (type from the bytes, size from
the setting), so a bad file leaves nothing half-saved."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from ketaclinic.messaging.rules.files import HEAD_BYTES, FileKind, file_kind, filename_safe

MAX_FILES = 3


class Upload(Protocol):
    """What Django's UploadedFile gives us (a test may pass its own)."""

    @property
    def name(self) -> str | None: ...
    @property
    def size(self) -> int | None: ...

    def read(self, size: int = -1) -> bytes: ...
    def seek(self, offset: int) -> int: ...


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    kind: FileKind
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def max_bytes() -> int:
    return int(settings.KETACLINIC_MESSAGE_ATTACHMENT_MAX_BYTES)


def attachments_check(files: Sequence[Upload]) -> list[CheckedFile]:
    """Every file read and checked; ValidationError on the field ``attachment`` naming the
    first bad one (by its sanitised name) and why, before any row is written."""
    if len(files) > MAX_FILES:
        raise ValidationError(
            {"attachment": _("Please attach at most %(n)d files.") % {"n": MAX_FILES}}
        )
    limit = max_bytes()
    checked = []
    for upload in files:
        shown = filename_safe(upload.name or "", _ANY_NAME)[: -len(_ANY_NAME.extension) - 1]
        if upload.size is not None and upload.size > limit:
            raise _too_big(shown, limit)
        upload.seek(0)
        data = upload.read(limit + 1)
        if len(data) > limit:
            raise _too_big(shown, limit)
        if not data:
            raise ValidationError(
                {"attachment": _("The file %(name)s is empty.") % {"name": shown}}
            )
        kind = file_kind(data[:HEAD_BYTES])
        if kind is None:
            raise ValidationError(
                {
                    "attachment": _(
                        "The file %(name)s is not a PDF, PNG or JPEG file. Please attach a "
                        "PDF document or a photo (PNG or JPEG)."
                    )
                    % {"name": shown}
                }
            )
        checked.append(CheckedFile(filename_safe(upload.name or "", kind), kind, data))
    return checked


# Only for showing the name of a refused file (its extension is cut off again).
_ANY_NAME = FileKind("application/octet-stream", "x", "file")


def _too_big(shown: str, limit: int) -> ValidationError:
    return ValidationError(
        {
            "attachment": _("The file %(name)s is too large: the limit is %(limit)s.")
            % {"name": shown, "limit": filesizeformat(limit)}
        }
    )
