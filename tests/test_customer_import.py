"""``flask customers import``: the documented layout, row by row, a report of what was refused and
why, idempotent on re-run, consent only with evidence; hostile files (broken encoding, formulas,
duplicates, oversized cells) refused clearly; 10,000 rows in batches."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from portal.account.models import ContactPoint, Customer, DataChange
from portal.audit.models import AuditRecord
from portal.consent.models import ConsentEntry
from portal.customers import importer
from portal.db import db
from portal.enums import DataSource
from portal.rights import services as from_rights
from portal.spreadsheets import FORMULA_STARTS
from tests.helpers import count

HEADER = ["external_id", "full_name", "email_personal", "phone_mobile", "address_home", "notes",
          "consent_promotions", "consent_surveys", "consent_method", "consent_evidence"]


def csv_bytes(rows, header=HEADER, encoding="utf-8") -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode(encoding)


def row(external_id="KH-1", name="Nguyễn Văn An", email="an@example.vn", phone="0903 123 456",
        address="12 Lê Lợi, Quận 1", notes="", promotions="", surveys="", method="", evidence=""):
    return [external_id, name, email, phone, address, notes, promotions, surveys, method, evidence]


def run(runner, tmp_path, data: bytes, *extra):
    source = tmp_path / "customers.csv"
    source.write_bytes(data)
    return runner.invoke(args=["customers", "import", str(source), *extra])


def test_a_file_loads_with_contacts_consent_history_and_audit(runner, tmp_path):
    data = csv_bytes([row(promotions="yes", surveys="no", method="web_form", evidence="form-2201"),
                      row("KH-2", "Trần Thị Bình", "binh@example.vn", "+84 912 000 111", "")])
    result = run(runner, tmp_path, data)
    assert result.exit_code == 0, result.output
    assert "Loaded 2 customer(s); 0 already present" in result.output
    an = db.session.scalars(select(Customer).where(Customer.external_id == "KH-1")).one()
    assert an.source is DataSource.IMPORT
    assert {point.value_normalized for point in an.contact_points} == {"an@example.vn", "+84903123456", ""}
    entries = {entry.purpose.value: entry for entry in db.session.scalars(
        select(ConsentEntry).where(ConsentEntry.customer_id == an.id))}
    assert (entries["promotions"].granted, entries["surveys"].granted) == (True, False)
    assert entries["promotions"].evidence == "form-2201"
    assert {change.via for change in an.changes} == {DataSource.IMPORT}
    assert count(AuditRecord, AuditRecord.action == "customer.imported") == 2


def test_running_the_same_file_again_loads_nothing_twice(runner, tmp_path):
    data = csv_bytes([row(), row("KH-2", "Bình", "binh@example.vn", "0912 000 111", "")])
    assert run(runner, tmp_path, data).exit_code == 0
    before = (count(Customer), count(ContactPoint), count(DataChange), count(AuditRecord))
    again = run(runner, tmp_path, data)
    assert again.exit_code == 0 and "Loaded 0 customer(s); 2 already present" in again.output
    assert (count(Customer), count(ContactPoint), count(DataChange), count(AuditRecord)) == before


def test_bad_rows_are_refused_with_their_number_and_reason_and_the_rest_load(runner, tmp_path):
    rows = [row("KH-1"), row("KH-2", phone="abc"), row("KH-3", phone="+84"), row("KH-4", name=""),
            row("KH-5", promotions="yes"), row("KH-6", surveys="yes", method="portal", evidence="x"),
            row("KH-1", name="Trùng"), row("KH-7", address="x" * 10_001), row("KH-8", email="not-an-address"),
            row("KH-9", promotions="maybe", method="sms", evidence="sms-1"), row("KH-10")]
    report = tmp_path / "report.csv"
    result = run(runner, tmp_path, csv_bytes(rows), "--report", str(report))
    assert result.exit_code == 1
    assert "Loaded 2 customer(s); 0 already present (not changed); 9 row(s) refused." in result.output
    lines = list(csv.reader(report.open(encoding="utf-8")))
    assert lines[0] == ["row", "external_id", "reason"]
    reasons = {int(line[0]): line[2] for line in lines[1:]}
    assert set(reasons) == {3, 4, 5, 6, 7, 8, 9, 10, 11}
    assert "phone" in reasons[3] and "phone" in reasons[4]
    assert "full_name" in reasons[5]
    assert "consent_method" in reasons[6] and "consent_method" in reasons[7]
    assert "already on row 2" in reasons[8]
    assert "10000" in reasons[9] and "email_personal" in reasons[10] and "consent_promotions" in reasons[11]
    assert "Row 3 refused (KH-2)" in result.output
    assert set(db.session.scalars(select(Customer.external_id))) == {"KH-1", "KH-10"}


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\")", "+SUM(1)", "-2+3", "@cmd", "\t=1"])
def test_formula_cells_are_refused_and_never_written_back_as_formulas(runner, tmp_path, cell):
    report = tmp_path / "report.csv"
    data = csv_bytes([[cell, "An", "", "", "", "", "", "", "", ""], row("KH-2", name=cell),
                      row("KH-3", notes=cell)])
    result = run(runner, tmp_path, data, "--report", str(report))
    assert result.exit_code == 1 and "3 row(s) refused" in result.output
    assert count(Customer) == 0
    for line in list(csv.reader(report.open(encoding="utf-8")))[1:]:
        assert not any(value.startswith(FORMULA_STARTS) for value in line), line
    assert "formula" in report.read_text(encoding="utf-8")


def test_a_phone_number_may_start_with_a_plus(runner, tmp_path):
    result = run(runner, tmp_path, csv_bytes([row(phone="+84 903 123 456")]))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("data", [
    csv_bytes([row(name="Hélène Lê", address="12 Le Loi, Quan 1")], encoding="cp1252"),
    csv_bytes([row()]) + b"\xff\xfe broken",
    csv_bytes([row(name="Nguyễn Văn An")], encoding="utf-16"),
    csv_bytes([row(name="Nguyễn")])[:-3] + "ễ".encode()[:2],
])
def test_a_file_with_broken_encoding_is_refused_whole(runner, tmp_path, data):
    result = run(runner, tmp_path, data)
    assert result.exit_code != 0 and "not UTF-8" in result.output and "Nothing was loaded" in result.output
    assert count(Customer) == 0


def test_a_file_without_the_documented_columns_is_refused_whole(runner, tmp_path):
    result = run(runner, tmp_path, csv_bytes([row()], header=["id", *HEADER[1:]]))
    assert result.exit_code != 0 and "unknown: id" in result.output and "missing: external_id" in result.output
    assert count(Customer) == 0


def test_a_byte_order_mark_and_markup_are_taken_as_text(runner, tmp_path):
    markup = '<script>alert("x")</script>'
    result = run(runner, tmp_path, b"\xef\xbb\xbf" + csv_bytes([row(name=markup, notes=markup)]))
    assert result.exit_code == 0, result.output
    assert db.session.scalars(select(Customer.full_name)).one() == markup


def test_ten_thousand_rows_load_in_batches(runner, tmp_path, monkeypatch):
    commits = []
    monkeypatch.setattr(importer, "_write_batch", _counting(importer._write_batch, commits))
    rows = [row(f"KH-{number}", f"Khách {number}", f"k{number}@example.vn", f"0903 {number:06d}",
                f"{number} Lê Lợi, Quận 1", promotions="yes" if number % 2 else "", method="sms",
                evidence=f"sms-{number}") for number in range(10_000)]
    result = run(runner, tmp_path, csv_bytes(rows), "--quiet")
    assert result.exit_code == 0, result.output[-500:]
    assert count(Customer) == 10_000
    assert db.session.scalar(select(func.count()).select_from(ConsentEntry)) == 5_000
    assert len(commits) == 10_000 // importer.BATCH_ROWS


def _counting(function, calls):
    def counted(batch, *args):  # each batch written is committed
        if batch:
            calls.append(len(batch))
        return function(batch, *args)
    return counted


def test_someone_whose_data_was_erased_is_not_put_back_on_a_marketing_list(runner, tmp_path):
    from_rights.suppress(email="an@example.vn")
    from_rights.suppress(phone="0912 000 111")
    db.session.commit()
    data = csv_bytes([row(promotions="yes", surveys="yes", method="web_form", evidence="form-1"),
                      row("KH-2", "Trần Thị Bình", "binh@example.vn", "+84 912 000 111", "", promotions="yes",
                          method="sms", evidence="sms-9"),
                      row("KH-3", "Lê Văn Cường", "cuong@example.vn", "0933 444 555", "", promotions="yes",
                          method="sms", evidence="sms-10")])
    result = run(runner, tmp_path, data)
    assert result.exit_code == 0, result.output
    granted = {(customer.external_id, entry.purpose.value) for customer, entry in db.session.execute(
        select(Customer, ConsentEntry).join(ConsentEntry, ConsentEntry.customer_id == Customer.id)
        .where(ConsentEntry.granted.is_(True)))}
    assert granted == {("KH-3", "promotions")}
