"""Evidence files a customer sends with a leak complaint: checked, cleaned and stored.

A file is accepted only if its name is a plain file name with one extension that matches what its
first bytes say it is (JPEG, PNG or PDF: the name and the browser's type are not trusted), and it is
neither empty nor larger than ``EVIDENCE_MAX_MB``. Pictures are decoded and encoded again, so that
what the camera or phone wrote into them (the place it was taken, the device, the owner's name) is
not kept: only the pixels are. PDF documents are kept as sent.

Files are written under random names to ``UPLOAD_DIR`` (outside ``static/``), only once the form is
valid. If writing fails (a full disk, a missing folder) the files written so far are removed and
nothing is filed. Files that no row names — the database refused the complaint after the files were
written — are removed by :func:`remove_orphan_files`, which ``flask worker`` runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import event
from sqlalchemy.orm import Session
from wtforms.validators import ValidationError

from portal.db import db
from portal.tickets.kinds.base import DetailsNotStored

# What a file's first bytes must be, and the extension it is stored and must be named with.
EVIDENCE_TYPES = {
    "image/jpeg": (b"\xff\xd8\xff", (".jpg", ".jpeg")),
    "image/png": (b"\x89PNG\r\n\x1a\n", (".png",)),
    "application/pdf": (b"%PDF-", (".pdf",)),
}
PICTURES = {"image/jpeg": "JPEG", "image/png": "PNG"}
# A picture larger than this (in pixels) is refused before it is decoded: a small file can unpack
# into a huge image (a "decompression bomb").
MAX_PIXELS = 40_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow warns past this and refuses past twice as many
# Extensions that, inside a name ("photo.php.png"), are a sign the name is meant to deceive.
DECEIVING_EXTENSIONS = frozenset({
    "htm", "html", "xhtml", "shtml", "svg", "js", "mjs", "php", "phtml", "asp", "aspx", "jsp", "cgi", "pl",
    "py", "exe", "com", "scr", "bat", "cmd", "ps1", "sh", "vbs", "jar", "msi", "dll", "hta", "lnk",
    "jpg", "jpeg", "png", "gif", "pdf", "doc", "docx", "xls", "xlsx", "zip", "rar",
})
# Files without a row are removed only once this old: a complaint being filed now may still commit.
ORPHAN_AGE = timedelta(hours=1)
STORED_NAME = re.compile(r"[0-9a-f]{32}\.(jpg|png|pdf)")


class EvidenceNotStored(DetailsNotStored):
    """The files could not be written; nothing was kept."""

    field = "evidence"
    message = _l("We could not store your files just now, so nothing was filed. What you typed is still"
                 " here: please send the form again in a few minutes, or without the files.")


def shown_name(filename: str | None) -> str:
    """The name the customer gave a file, for display only: no folders, no control characters."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip(" .")
    return name[:200] or "file"


def _name_problem(filename: str, extensions: tuple[str, ...]):
    """Why the name a file came with is refused, or None."""
    if any(ch in filename for ch in "/\\") or any(not ch.isprintable() for ch in filename):
        return _l("The file name %(name)s is not allowed: send it under a plain name, without folders or"
                  " special characters.", name=shown_name(filename))
    stem, dot, extension = filename.rpartition(".")
    if not dot or "." + extension.lower() not in extensions:
        return _l("The file %(name)s is named as another type than it is: its name must end in %(ending)s.",
                  name=shown_name(filename), ending=" / ".join(extensions))
    if any(part.lower() in DECEIVING_EXTENSIONS for part in stem.split(".")[1:]):
        return _l("The file name %(name)s has two extensions: rename it so that it has only one.",
                  name=shown_name(filename))
    return None


def _type_of(content: bytes) -> str | None:
    return next((kind for kind, (magic, _endings) in EVIDENCE_TYPES.items() if content.startswith(magic)), None)


def _reencoded(content: bytes, kind: str, name: str) -> bytes:
    """The picture's pixels alone, encoded again (turned upright as the camera recorded it)."""
    try:
        with Image.open(io.BytesIO(content)) as picture:
            if picture.format != PICTURES[kind]:
                raise ValidationError(_l("The file %(name)s is not a JPEG or PNG picture or a PDF document.",
                                         name=name))
            if picture.width * picture.height > MAX_PIXELS:
                raise ValidationError(_l("The picture %(name)s has too many pixels: send a smaller copy.",
                                         name=name))
            picture.load()
            upright = ImageOps.exif_transpose(picture)
            clean = Image.new(upright.mode, upright.size)
            clean.frombytes(upright.tobytes())  # pixels only: no EXIF, XMP, comments or text chunks
            if upright.mode == "P":
                clean.putpalette(upright.getpalette())
            out = io.BytesIO()
            if kind == "image/jpeg":
                if clean.mode not in ("RGB", "L", "CMYK"):
                    clean = clean.convert("RGB")
                clean.save(out, "JPEG", quality=90)
            else:
                clean.save(out, "PNG", optimize=False)
            return out.getvalue()
    except ValidationError:
        raise
    except Image.DecompressionBombError:  # Pillow refuses twice MAX_PIXELS before our own check
        raise ValidationError(_l("The picture %(name)s has too many pixels: send a smaller copy.", name=name)) \
            from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError(_l("The picture %(name)s is damaged and cannot be opened. Send another copy.",
                                 name=name)) from None


def read_evidence(items) -> list[tuple[str, str, bytes]]:
    """Check the chosen files and return (name, type, content to store) for each, pictures already
    cleaned. Raises ValidationError with a message the customer can act on."""
    config = current_app.config
    chosen = [item for item in items or [] if getattr(item, "filename", None)]
    if len(chosen) > config["EVIDENCE_MAX_FILES"]:
        raise ValidationError(_l("Send at most %(count)d files.", count=config["EVIDENCE_MAX_FILES"]))
    limit = config["EVIDENCE_MAX_MB"] * 1024 * 1024
    read = []
    for item in chosen:
        name = shown_name(item.filename)
        content = item.stream.read(limit + 1)
        if not content:
            raise ValidationError(_l("The file %(name)s is empty.", name=name))
        if len(content) > limit:
            raise ValidationError(_l("The file %(name)s is larger than %(size)d MB.", name=name,
                                     size=config["EVIDENCE_MAX_MB"]))
        kind = _type_of(content)
        if kind is None:
            raise ValidationError(_l("The file %(name)s is not a JPEG or PNG picture or a PDF document.", name=name))
        problem = _name_problem(item.filename, EVIDENCE_TYPES[kind][1])
        if problem is not None:
            raise ValidationError(problem)
        if kind in PICTURES:
            content = _reencoded(content, kind, name)
        read.append((name, kind, content))
    return read


def write_evidence(read: list[tuple[str, str, bytes]]) -> list[dict]:
    """Write the files under random names; the columns of their rows. On any failure to write, the
    files written so far are removed and :class:`EvidenceNotStored` is raised."""
    folder = current_app.config["UPLOAD_DIR"]
    written: list[str] = []
    rows = []
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        for name, kind, content in read:
            stored = secrets.token_hex(16) + EVIDENCE_TYPES[kind][1][0]
            path = os.path.join(folder, stored)
            with open(path, "xb") as out:
                written.append(path)
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            rows.append({"stored_name": stored, "original_name": name, "content_type": kind, "size": len(content),
                         "sha256": hashlib.sha256(content).hexdigest()})
    except OSError:
        current_app.logger.exception("Evidence files could not be written to %s", folder)
        for path in written:
            with contextlib.suppress(OSError):
                os.remove(path)
        raise EvidenceNotStored() from None
    return rows


def remove_after_commit(path: str) -> None:
    """Remove the file at ``path`` once the transaction that dropped its row commits (never before:
    a rollback brings the row back, and it must still find its file)."""
    db.session.info.setdefault(_TO_REMOVE, []).append(path)


_TO_REMOVE = "evidence_files_to_remove"


@event.listens_for(Session, "after_commit")
def _remove_dropped_files(session) -> None:
    for path in session.info.pop(_TO_REMOVE, []):
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


@event.listens_for(Session, "after_rollback")
def _keep_files_of_rows_kept(session) -> None:
    session.info.pop(_TO_REMOVE, None)


def remove_orphan_files(known_names: set[str], now: datetime) -> int:
    """Remove the files in ``UPLOAD_DIR`` that look like evidence, are older than ORPHAN_AGE and are
    not in ``known_names`` (the stored names the database lists). Return how many went."""
    folder = current_app.config["UPLOAD_DIR"]
    if not os.path.isdir(folder):
        return 0
    removed = 0
    oldest = (now - ORPHAN_AGE).timestamp()
    for entry in os.scandir(folder):
        if not STORED_NAME.fullmatch(entry.name) or entry.name in known_names:
            continue
        with contextlib.suppress(FileNotFoundError):  # another worker's sweep got there first
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < oldest:
                os.remove(entry.path)
                removed += 1
    return removed
