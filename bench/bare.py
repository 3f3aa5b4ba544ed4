"""The ceiling every page is measured against: a bare Flask app served the same way as the portal.

``/`` answers a few bytes; ``/page`` renders a Jinja page of about 8 KB (a header, a table of forty
rows, a footer) with autoescaping, as a portal page would, but with nothing else: no database, no
session, no translations, no forms.
"""

from __future__ import annotations

import os

from flask import Flask, render_template

app = Flask(__name__, template_folder=os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates"))
ROWS = [{"reference": f"KN-2026-{number:06d}", "kind": "Câu hỏi", "status": "Đang xử lý",
         "due": "30/11/2026", "name": f"Khách hàng số {number}"} for number in range(1, 41)]


@app.route("/")
def bare():
    return "ok"


@app.route("/page")
def page():
    return render_template("bare_page.html", rows=ROWS, title="Yêu cầu của tôi")
