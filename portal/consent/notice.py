"""The privacy notice, versioned: each version is a pair of text files under ``notices/``
(``<version>.vi.txt``, the original, and ``<version>.en.txt``) with the day it takes effect. The
version in effect today is the one a new consent entry records.

A text file is plain paragraphs separated by blank lines; a line starting with ``# `` is a heading
and lines starting with ``- `` make a list. Nothing in it is taken as HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

FOLDER = Path(__file__).resolve().parent / "notices"
LANGUAGES = ("vi", "en")


@dataclass(frozen=True)
class NoticeVersion:
    version: str
    effective_on: date  # the first day (in Vietnam) the version applies


# Oldest first. A new version is a new pair of files and a line here; past versions stay, since
# consent entries name the version they were given under.
VERSIONS = (
    NoticeVersion("1", date(2026, 1, 1)),
)


@dataclass(frozen=True)
class Block:
    kind: str  # "heading", "paragraph" or "list"
    lines: tuple[str, ...]


def find_version(version: str) -> NoticeVersion | None:
    return next((item for item in VERSIONS if item.version == version), None)


def version_in_effect(today: date) -> NoticeVersion:
    """The newest version whose day has come (the first one before any has)."""
    current = VERSIONS[0]
    for item in VERSIONS:
        if item.effective_on <= today:
            current = item
    return current


@lru_cache(maxsize=16)
def blocks_of(version: str, language: str) -> tuple[Block, ...]:
    """The text of ``version`` in ``language`` (Vietnamese when there is no such language), as blocks."""
    language = language if language in LANGUAGES else "vi"
    text = (FOLDER / f"{version}.{language}.txt").read_text(encoding="utf-8")
    return tuple(_block(chunk) for chunk in text.split("\n\n") if chunk.strip())


def _block(chunk: str) -> Block:
    lines = [line.strip() for line in chunk.strip().splitlines() if line.strip()]
    if len(lines) == 1 and lines[0].startswith("# "):
        return Block("heading", (lines[0][2:],))
    if all(line.startswith("- ") for line in lines):
        return Block("list", tuple(line[2:] for line in lines))
    return Block("paragraph", (" ".join(lines),))
