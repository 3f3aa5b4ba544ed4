"""The board's inspection page and the pack's download.

``GET /board/inspection`` shows the form; the form posts (with its CSRF token) to
``POST /board/inspection/pack``, which answers with the zip, or with the page again and the reasons
when the range is wrong. A POST, because each download is a change: it writes an audit record of who
took which range."""

from __future__ import annotations

import tempfile
from datetime import timedelta

from flask import render_template, send_file
from flask_babel import force_locale
from flask_login import current_user

from portal import clock
from portal.access import staff_required
from portal.audit.services import record
from portal.db import db
from portal.inspection import bp
from portal.inspection.forms import PackForm
from portal.inspection.pack import MAX_DAYS, write_pack
from portal.local_time import local_date

DEFAULT_DAYS = 30
SPOOL_BYTES = 8 * 1024 * 1024  # a pack larger than this goes to a temporary file on disk


def _page(form: PackForm):
    return render_template("inspection/index.html", form=form, max_days=MAX_DAYS)


@bp.route("")
@staff_required("inspection.export")
def index():
    """The range form, filled in with the last 30 days."""
    today = local_date(clock.now())
    form = PackForm(formdata=None, date_from=today - timedelta(days=DEFAULT_DAYS - 1), date_to=today)
    return _page(form)


@bp.route("/pack", methods=["POST"])
@staff_required("inspection.export")
def pack():
    """The zip of the registers for the range, and an audit record of who took it."""
    now = clock.now()
    form = PackForm()
    form.today = local_date(now)
    if not form.validate():
        return _page(form), 400
    member = current_user.staff
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (send_file closes it)
    with force_locale(form.language.data):
        summary = write_pack(spool, form.date_from.data, form.date_to.data, now, member.full_name)
    record(member, "inspection.exported", date_from=form.date_from.data.isoformat(),
           date_to=form.date_to.data.isoformat(), language=form.language.data, rows=dict(summary.rows))
    db.session.commit()
    spool.seek(0)
    name = f"inspection-{form.date_from.data.isoformat()}-{form.date_to.data.isoformat()}.zip"
    response = send_file(spool, mimetype="application/zip", as_attachment=True, download_name=name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
