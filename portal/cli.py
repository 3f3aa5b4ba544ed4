"""``flask`` commands: worker, demo data, outbox inspection."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from portal import clock
from portal.customers.cli import customers_group
from portal.db import db
from portal.demo import load_demo_data
from portal.outbox.delivery import resend
from portal.outbox.models import OutboxMessage, OutboxStatus
from portal.staff.cli import staff_group
from portal.worker import run_once, run_until_signalled


def register(app) -> None:
    app.cli.add_command(worker_command)
    app.cli.add_command(demo_group)
    app.cli.add_command(outbox_group)
    app.cli.add_command(staff_group)
    app.cli.add_command(customers_group)


@click.command("worker")
@click.option("--once", is_flag=True, help="Do the due work once and exit.")
@with_appcontext
def worker_command(once: bool) -> None:
    """Deliver the outbox (run as many of these as you like, on any machines)."""
    app = current_app._get_current_object()
    if once:
        click.echo(f"Done: {run_once(app)} item(s) of work.")
        return
    run_until_signalled(app, app.config["WORKER_POLL_SECONDS"])


@click.group("demo")
def demo_group() -> None:
    """Demo data for development."""


@demo_group.command("load")
@with_appcontext
def demo_load() -> None:
    """Load the demo customers (once) and print the addresses to sign in with."""
    if current_app.config["ENV"] == "production":
        raise click.ClickException("Demo data is for development and test portals only.")
    created, addresses, staff = load_demo_data(clock.now())
    db.session.commit()
    base = current_app.config["BASE_URL"]
    click.echo("Demo data loaded." if created else "Demo data already present.")
    click.echo(f"Customers: sign in at {base}/sign-in with one of these addresses:")
    for name, address in addresses:
        click.echo(f"  {address:<40} {name}")
    click.echo(f"Staff: sign in at {base}/staff/sign-in (new random passwords on every run; an "
               "authenticator app is enrolled at the first sign-in):")
    for email, role, password in staff:
        click.echo(f"  {email:<28} {role:<6} {password}")


@click.group("outbox")
def outbox_group() -> None:
    """Look at and resend outgoing e-mail."""


@outbox_group.command("list")
@click.option("--status", type=click.Choice(["pending", "sent", "failed"]), default=None)
@with_appcontext
def outbox_list(status: str | None) -> None:
    """List messages, newest first, with their delivery state."""
    statement = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(100)
    if status:
        statement = statement.where(OutboxMessage.status == status)
    for message in db.session.scalars(statement):
        click.echo(f"{message.id:>6} {message.status:<8} attempts={message.attempt_count:<3} "
                   f"{message.recipient:<35} {message.last_error or ''}")


@outbox_group.command("resend")
@click.argument("message_id", type=int)
@with_appcontext
def outbox_resend(message_id: int) -> None:
    """Queue a failed message again (same Message-ID)."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.status != OutboxStatus.FAILED:
        raise click.ClickException("No failed message with that number.")
    resend(message, clock.now(), "operator")
    db.session.commit()
    click.echo(f"Message {message_id} queued again.")
