"""What the benchmark scripts share: an empty database built by the migrations."""

from __future__ import annotations

from flask_migrate import upgrade
from sqlalchemy import text

from portal.db import db


def empty_database() -> None:
    """Bring the app's database to the newest migration and delete every row (the ids start again)."""
    upgrade()
    names = [table.name for table in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
    else:
        for name in names:
            db.session.execute(text(f"DELETE FROM {name}"))
    db.session.commit()
