"""The repository stands on its own: a fresh clone is all its users have, so nothing in it points
outside it, and the README's quick start says what someone trying it needs to know."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# A relative path that climbs out of the folder it is written in, and a document named by its file.
CLIMBING = re.compile(r"(?:\.\./)+[\w.-][\w./-]*")
DOCUMENT = re.compile(r"[\w./-]*\b[\w-]+\.md\b")


def tracked_files() -> list[Path]:
    try:
        listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,  # noqa: S607
                                check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / name for name in listed.splitlines() if (ROOT / name).is_file()]


def outside_references(path: Path, text: str, documents: set[str]) -> list[str]:
    """What ``text`` (the file at ``path``) names outside the repository: relative paths that lead
    out of it (outside the tests, whose hostile inputs climb on purpose), and documents (``*.md``)
    that no file of the repository is."""
    climbing = [] if path.is_relative_to(ROOT / "tests") else CLIMBING.findall(text)
    found = [match for match in climbing if not (path.parent / match).resolve().is_relative_to(ROOT)]
    return found + [match for match in DOCUMENT.findall(text) if Path(match).name not in documents]


def test_nothing_points_outside_the_repository():
    files = tracked_files()
    documents = {path.name for path in files if path.suffix == ".md"}
    found = []
    for path in files:
        if path.suffix in (".png", ".mo", ".ico", ".svg"):
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        found += [f"{path.relative_to(ROOT)}: {name}" for name in outside_references(path, text, documents)]
    assert not found, "\n".join(found)


ELSEWHERE = "../" * 3 + "notes.txt"  # written in pieces, so that this file names nothing outside
MISSING = "NOTES-FROM-ELSEWHERE" + ".md"


@pytest.mark.parametrize(("text", "named"), [
    (f"read {ELSEWHERE} first", [ELSEWHERE]),
    (f"see the design in {MISSING}", [MISSING]),
    ("see docs/architecture.md and ../README.md", []),
])
def test_the_check_finds_what_points_outside(text, named):
    path = ROOT / "docs" / "example.txt"
    assert outside_references(path, text, {"architecture.md", "README.md"}) == named


def test_the_readme_says_how_to_try_the_portal():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for needed in ("make run", "make test", "PORT=", "docs/product.md", "docs/architecture.md",
                   "new on every `make run`", "3 links an hour"):
        assert needed in readme, needed
    for document in ("docs/product.md", "docs/architecture.md"):
        assert (ROOT / document).is_file(), document
