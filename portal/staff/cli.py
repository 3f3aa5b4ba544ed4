"""``flask staff ...``: create the first administrator (or any member) from the command line."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from flask_babel import force_locale

from portal import clock
from portal.contact_values import InvalidAddress, normalize_email
from portal.db import db
from portal.enums import Role
from portal.staff import services
from portal.staff.passwords import password_problems


@click.group("staff")
def staff_group() -> None:
    """Staff accounts."""


@staff_group.command("create")
@click.option("--email", required=True, help="Work e-mail address (the sign-in name).")
@click.option("--name", "full_name", required=True, help="Full name, as colleagues see it.")
@click.option("--role", type=click.Choice([str(role) for role in Role]), required=True)
@with_appcontext
def create_command(email: str, full_name: str, role: str) -> None:
    """Create a staff member with a password typed here (twice, hidden).

    Meant for the first administrator; the others are invited from the staff pages. The member sets
    up their authenticator app at their first sign-in.
    """
    try:
        address = normalize_email(email)
    except InvalidAddress:
        raise click.ClickException("This is not a valid e-mail address.") from None
    if not full_name.strip() or len(full_name) > 200:
        raise click.ClickException("Give a name of 1 to 200 characters.")
    if services.find_member(address) is not None:
        raise click.ClickException("A staff member with this e-mail address already exists.")
    password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with force_locale("en"):
        problems = [str(problem) for problem in password_problems(password, address)]
    if problems:
        raise click.ClickException(" ".join(problems))
    member = services.create_member(address, full_name, Role(role), None, clock.now(), password=password)
    db.session.commit()
    click.echo(f"Created {member.email} ({member.role}). Sign in at /staff/sign-in to set up the "
               "authenticator app.")
