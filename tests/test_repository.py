"""The repository stands on its own: a fresh clone is all its users have, so nothing in it points
outside it, and the README's quick start says what someone trying it needs to know."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OUTSIDE = ("../shared", "shared/DESIGN", "DESIGN.md", "DESIGN §", "STYLE.md", "vn-pdp-excerpts")


def tracked_files() -> list[Path]:
    try:
        listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,  # noqa: S607
                                check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / name for name in listed.splitlines() if (ROOT / name).is_file()]


def test_nothing_points_outside_the_repository():
    found = []
    for path in tracked_files():
        if path.suffix in (".png", ".mo", ".ico") or path.name == "test_repository.py":
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        found += [f"{path.relative_to(ROOT)}: {needle}" for needle in OUTSIDE if needle in text]
    assert not found, "\n".join(found)


def test_the_readme_says_how_to_try_the_portal():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for needed in ("make run", "make test", "PORT=", "docs/product.md", "docs/architecture.md",
                   "new on every `make run`", "3 links an hour"):
        assert needed in readme, needed
    for document in ("docs/product.md", "docs/architecture.md"):
        assert (ROOT / document).is_file(), document
