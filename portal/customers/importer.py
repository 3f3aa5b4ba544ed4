"""Loading customer records from the sales system's CSV export (``flask customers import``).

The column layout is in docs/import.md. The file is read as a stream: first checked to be UTF-8 from
end to end (a file with broken encoding is refused whole, before anything is loaded), then read row
by row, checked by the same rules as the board's forms, and written in batches, each committed with
its own audit records. A row that cannot be loaded is refused with its number and the reason, and
the rest go on. Re-running a file loads nothing twice: a record is known by its ``external_id``.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, select

from portal.account.models import ContactPoint, Customer, DataChange
from portal.audit.models import AuditRecord
from portal.consent.models import CONSENT_PURPOSES, ConsentEntry
from portal.customers.services import MAX_NOTES, clean_contact, clean_name, clean_notes, has_controls
from portal.db import db
from portal.enums import ActorKind, ConsentMethod, DataSource, Purpose
from portal.rights.services import suppressed_among
from portal.spreadsheets import FORMULA_STARTS, safe_cell

BATCH_ROWS = 500
MAX_FIELD = 10_000  # characters in one cell: more is a damaged file, not a customer's data
MAX_EXTERNAL_ID = 100
CHUNK_BYTES = 1 << 16
ACTOR = "cli"
ACTOR_NAME = "import"
# A cell that starts with one of these is run as a formula by a spreadsheet that opens the file.
CONTACT_COLUMNS = {"email_personal": "email:personal", "email_company": "email:company",
                   "phone_mobile": "phone:mobile", "phone_home": "phone:home", "phone_office": "phone:office",
                   "address_home": "address:home", "address_office": "address:office"}
CONSENT_COLUMNS = {f"consent_{purpose.value}": purpose for purpose in CONSENT_PURPOSES}
COLUMNS = ("external_id", "full_name", *CONTACT_COLUMNS, "notes", *CONSENT_COLUMNS, "consent_method",
           "consent_evidence")
REQUIRED_COLUMNS = ("external_id", "full_name")
YES, NO = ("yes", "y", "1", "có", "co"), ("no", "n", "0", "không", "khong")
IMPORT_METHODS = {method.value for method in ConsentMethod if method is not ConsentMethod.PORTAL}
# Consents a suppressed address must never be given again by an import (see drop_suppressed_consents).
MARKETING_PURPOSES = (Purpose.SURVEYS, Purpose.PROMOTIONS)


class ImportRefused(ValueError):
    """The whole file is refused (encoding, columns): nothing was loaded."""


@dataclass
class Refusal:
    row: int  # as a spreadsheet numbers it: the header is row 1
    external_id: str
    reason: str


@dataclass
class ImportRow:
    """One row, checked and read: what will be written."""

    row: int
    external_id: str
    full_name: str
    notes: str
    contacts: list  # (channel, kind, value, normalized)
    consents: dict[Purpose, bool] = field(default_factory=dict)
    method: ConsentMethod | None = None
    evidence: str = ""


@dataclass
class ImportResult:
    loaded: int = 0
    already_present: int = 0
    refused: list[Refusal] = field(default_factory=list)  # only the first few are kept; see refused_count
    refused_count: int = 0


# --- the file ----------------------------------------------------------------------------------------


def check_encoding(binary) -> None:
    """Read the whole file once as UTF-8, a chunk at a time; ImportRefused at the first broken byte."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset = 0
    while chunk := binary.read(CHUNK_BYTES):
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as error:
            raise ImportRefused(f"The file is not UTF-8 text (a broken character at byte {offset + error.start + 1}). "
                                "Export it again as “CSV UTF-8”. Nothing was loaded.") from None
        offset += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise ImportRefused("The file ends in the middle of a character: it is not UTF-8 text. "
                            "Nothing was loaded.") from None
    binary.seek(0)


def read_rows(text) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, cells by column) for every data row of a CSV text stream; ImportRefused for a
    header that is not the documented layout."""
    reader = csv.reader(text, strict=False)
    header = [name.strip().lower() for name in next(reader, [])]
    unknown = [name for name in header if name not in COLUMNS]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if not header or unknown or missing or len(set(header)) != len(header):
        raise ImportRefused("The first row must name the columns of docs/import.md "
                            f"(unknown: {', '.join(unknown) or '-'}; missing: {', '.join(missing) or '-'}). "
                            "Nothing was loaded.")
    number = 1
    for cells in reader:
        number += 1
        if not any(cell.strip() for cell in cells):
            continue
        extra = cells[len(header):]
        row = dict(zip(header, cells, strict=False))
        if any(cell.strip() for cell in extra):
            row[""] = "more cells than columns"
        yield number, row


# --- one row -----------------------------------------------------------------------------------------


def _formula_column(cells: dict[str, str]) -> str | None:
    """The first column whose cell a spreadsheet would run as a formula. A phone number may start
    with "+" (the phone reader then decides whether it is one)."""
    for name, value in cells.items():
        stripped = value.lstrip(" ")
        if name in CONTACT_COLUMNS and CONTACT_COLUMNS[name].startswith("phone:") and stripped.startswith("+") \
                and stripped[1:2].isdigit():
            continue
        if stripped.startswith(FORMULA_STARTS):
            return name
    return None


def check_row(number: int, cells: dict[str, str]) -> ImportRow:
    """The row read by the rules of the board's forms, or ValueError with the reason."""
    if "" in cells:
        raise ValueError(cells[""])
    if any(len(value) > MAX_FIELD for value in cells.values()):
        raise ValueError(f"a cell is longer than {MAX_FIELD} characters")
    formula = _formula_column(cells)
    if formula:
        raise ValueError(f"column {formula} starts like a spreadsheet formula (=, +, -, @)")
    external_id = cells.get("external_id", "").strip()
    if not external_id or len(external_id) > MAX_EXTERNAL_ID or has_controls(external_id):
        raise ValueError(f"external_id is missing or longer than {MAX_EXTERNAL_ID} characters")
    try:
        name = clean_name(cells.get("full_name"))
        notes = clean_notes(cells.get("notes"))
    except ValueError as problem:
        raise ValueError(f"{'notes' if len(cells.get('notes', '')) > MAX_NOTES else 'full_name'}: "
                         f"{problem.args[0]}") from None
    contacts = []
    for column, kind in CONTACT_COLUMNS.items():
        if cells.get(column, "").strip():
            try:
                contacts.append(clean_contact(kind, cells[column]))
            except ValueError as problem:
                raise ValueError(f"{column}: {problem.args[0]}") from None
    row = ImportRow(number, external_id, name, notes, contacts)
    _read_consents(row, cells)
    return row


def _read_consents(row: ImportRow, cells: dict[str, str]) -> None:
    for column, purpose in CONSENT_COLUMNS.items():
        answer = cells.get(column, "").strip().lower()
        if answer in YES:
            row.consents[purpose] = True
        elif answer in NO:
            row.consents[purpose] = False
        elif answer:
            raise ValueError(f"{column}: write yes, no or leave it empty")
    if not row.consents:
        return
    method = cells.get("consent_method", "").strip().lower()
    evidence = " ".join(cells.get("consent_evidence", "").split())
    if method not in IMPORT_METHODS:
        raise ValueError(f"consent_method: one of {', '.join(sorted(IMPORT_METHODS))} is needed with a consent")
    if not evidence or len(evidence) > 400 or has_controls(evidence):
        raise ValueError("consent_evidence: the reference of our proof is needed with a consent (at most 400 "
                         "characters)")
    row.method, row.evidence = ConsentMethod(method), evidence


def drop_suppressed_consents(rows: list[ImportRow]) -> None:
    """THE place where imported rows' marketing consents are dropped for someone whose data was
    erased (their e-mail address or phone is on the suppression list of portal/rights): they must
    not come back on a promotions or surveys list through the sales system's export. Their grants
    are removed before anything is written; one statement per batch."""
    wanting = [row for row in rows if any(row.consents.get(purpose) for purpose in MARKETING_PURPOSES)]
    values = {channel: [normalized for row in wanting for row_channel, _kind, _value, normalized in row.contacts
                        if row_channel == channel] for channel in ("email", "phone")}
    suppressed = suppressed_among(values["email"], values["phone"])
    for row in wanting:
        if any(normalized in suppressed for _channel, _kind, _value, normalized in row.contacts):
            for purpose in MARKETING_PURPOSES:
                row.consents.pop(purpose, None)


# --- writing ------------------------------------------------------------------------------------------


def import_customers(binary, now: datetime, on_refusal: Callable[[Refusal], None] | None = None,
                     keep_refusals: int = 1000) -> ImportResult:
    """Load a CSV export read from the binary stream ``binary``. Batches are committed as they are
    written; ImportRefused (nothing loaded) for a file that is not UTF-8 or not in the layout."""
    check_encoding(binary)
    result = ImportResult()

    def refuse(number: int, external_id: str, reason: str) -> None:
        refusal = Refusal(number, external_id, reason)
        result.refused_count += 1
        if len(result.refused) < keep_refusals:
            result.refused.append(refusal)
        if on_refusal:
            on_refusal(refusal)

    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    try:
        _load(read_rows(text), now, result, refuse)
    finally:
        text.detach()  # the caller's stream stays open
    return result


def _load(rows, now: datetime, result: ImportResult, refuse) -> None:
    seen: dict[str, int] = {}  # external id → the row it was first read on (duplicates in one file)
    batch: list[tuple[int, dict[str, str]]] = []
    try:
        for number, cells in rows:
            external_id = cells.get("external_id", "").strip()
            if external_id in seen:
                refuse(number, external_id[:MAX_EXTERNAL_ID], f"external_id already on row {seen[external_id]} "
                       "of this file")
                continue
            if external_id:
                seen[external_id] = number
            batch.append((number, cells))
            if len(batch) >= BATCH_ROWS:
                _write_batch(batch, now, result, refuse)
                batch = []
    except csv.Error as problem:
        _write_batch(batch, now, result, refuse)
        raise ImportRefused(f"The file is damaged after row {max(seen.values(), default=1)} ({problem}); the rows "
                            "before it are loaded, the rest is not. Mend the file and run it again.") from None
    _write_batch(batch, now, result, refuse)


def _write_batch(batch: list[tuple[int, dict[str, str]]], now: datetime, result: ImportResult, refuse) -> None:
    """Check and write the rows of ``batch`` not already loaded (those are not even read again), with
    their history, consents and audit records, and commit: a handful of multi-row INSERTs."""
    if not batch:
        return
    present = set(db.session.scalars(select(Customer.external_id).where(
        Customer.external_id.in_([cells.get("external_id", "").strip() for _number, cells in batch]))))
    fresh = []
    for number, cells in batch:
        if cells.get("external_id", "").strip() in present:
            result.already_present += 1
            continue
        try:
            fresh.append(check_row(number, cells))
        except ValueError as problem:
            refuse(number, cells.get("external_id", "").strip()[:MAX_EXTERNAL_ID], str(problem))
    drop_suppressed_consents(fresh)
    if fresh:
        ids = _insert_customers(fresh, now)
        _insert_details(fresh, ids, now)
        result.loaded += len(fresh)
    db.session.commit()


def _insert_customers(rows: list[ImportRow], now: datetime) -> dict[str, int]:
    values = [{"full_name": row.full_name, "notes": row.notes, "source": DataSource.IMPORT, "created_at": now,
               "external_id": row.external_id} for row in rows]
    returned = db.session.execute(insert(Customer).returning(Customer.id, Customer.external_id,
                                                             sort_by_parameter_order=True), values)
    return {external_id: customer_id for customer_id, external_id in returned}


def _insert_details(rows: list[ImportRow], ids: dict[str, int], now: datetime) -> None:
    points, changes, consents, audits = [], [], [], []
    history = {"customer_id": None, "changed_at": now, "actor_kind": ActorKind.SYSTEM, "actor_name": ACTOR_NAME,
               "via": DataSource.IMPORT, "old_value": None}
    for row in rows:
        customer_id = ids[row.external_id]
        changes.append({**history, "customer_id": customer_id, "field": "record", "new_value": row.full_name})
        if row.notes:
            changes.append({**history, "customer_id": customer_id, "field": "notes", "new_value": row.notes})
        for channel, kind, value, normalized in row.contacts:
            points.append({"customer_id": customer_id, "channel": channel, "kind": kind, "value": value,
                           "value_normalized": normalized, "source": DataSource.IMPORT, "created_at": now})
            changes.append({**history, "customer_id": customer_id, "field": f"{channel.value}:{kind.value}",
                            "new_value": value})
        for purpose, granted in row.consents.items():
            consents.append({"customer_id": customer_id, "purpose": purpose, "granted": granted, "method": row.method,
                             "evidence": row.evidence, "recorded_at": now, "actor_kind": ActorKind.SYSTEM,
                             "actor_name": ACTOR_NAME, "notice_version": None})
            changes.append({**history, "customer_id": customer_id, "field": f"consent:{purpose.value}",
                            "new_value": "given" if granted else "withdrawn"})
        audits.append({"occurred_at": now, "actor": ACTOR, "action": "customer.imported",
                       "target": f"customer:{customer_id}", "client_address": None,
                       "data": {"external_id": row.external_id, "row": row.row, "contacts": len(row.contacts),
                                "consents": {purpose.value: granted for purpose, granted in row.consents.items()}}})
    for model, values in ((ContactPoint, points), (DataChange, changes), (ConsentEntry, consents),
                          (AuditRecord, audits)):
        if values:  # the table's own INSERT: the rows are plain values, no objects of the session
            db.session.execute(insert(model.__table__), values)


# --- the report ---------------------------------------------------------------------------------------


def report_cell(value: str) -> str:
    """A cell of the report on one line, without control characters, that no spreadsheet will run
    as a formula."""
    return safe_cell("".join(ch for ch in " ".join(str(value).split()) if ord(ch) >= 32 and ord(ch) != 127))


def report_line(refusal: Refusal) -> list[str]:
    return [str(refusal.row), report_cell(refusal.external_id), report_cell(refusal.reason)]
