"""``flask customers import FILE.csv``: load customer records from the sales system's export."""

from __future__ import annotations

import csv

import click
from flask.cli import with_appcontext
from flask_babel import force_locale

from portal import clock
from portal.customers.importer import ImportRefused, Refusal, import_customers, report_line


@click.group("customers")
def customers_group() -> None:
    """Customer records."""


@customers_group.command("import")
@click.argument("source", type=click.File("rb"))
@click.option("--report", "report_path", type=click.Path(dir_okay=False, writable=True),
              help="Also write the refused rows (row, external_id, reason) to this CSV file.")
@click.option("--quiet", is_flag=True, help="Print only the totals, not each refused row.")
@with_appcontext
def import_command(source, report_path: str | None, quiet: bool) -> None:
    """Load customers from a CSV export of the sales system (columns: docs/import.md). Rows already
    loaded (same external_id) are left as they are; refused rows are listed with their reason."""
    report_file = open(report_path, "w", newline="", encoding="utf-8") if report_path else None  # noqa: SIM115
    writer = csv.writer(report_file) if report_file else None
    if writer:
        writer.writerow(["row", "external_id", "reason"])

    def on_refusal(refusal: Refusal) -> None:
        line = report_line(refusal)
        if not quiet:
            click.echo(f"Row {line[0]} refused ({line[1] or 'no external_id'}): {line[2]}")
        if writer:
            writer.writerow(line)

    try:
        with force_locale("en"):
            result = import_customers(source, clock.now(), on_refusal=on_refusal, keep_refusals=0)
    except ImportRefused as problem:
        raise click.ClickException(str(problem)) from None
    finally:
        if report_file:
            report_file.close()
    click.echo(f"Loaded {result.loaded} customer(s); {result.already_present} already present (not changed); "
               f"{result.refused_count} row(s) refused.")
    if result.refused_count:
        raise SystemExit(1)
