"""`screening reviewer ...`: add, disable, enable, reset and list the reviewers."""

from __future__ import annotations

import sys

import click

from .. import get_db, store
from . import FIRST_ADMIN_EMAIL, audit, cli


@cli.group("reviewer")
def reviewer_group() -> None:
    """Add, disable, enable, reset and list the reviewers who work through submissions."""


def _account(email: str) -> dict:
    from ..review import auth

    try:
        return auth.find_account(email)
    except auth.AccountError as exc:
        raise click.ClickException(str(exc)) from None


@reviewer_group.command("add")
@click.argument("email")
@click.option("--admin", is_flag=True, help="Let this reviewer manage reviewers and read the audit log.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input; do not generate one."
)
def reviewer_add(email: str, admin: bool, password_stdin: bool) -> None:
    """Add a reviewer. Without --password-stdin a strong password is generated and printed once."""

    from ..review import auth

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    try:
        account = auth.create_account(email, password=password, is_admin=admin)
    except auth.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    audit("reviewer_add", f"reviewer {account.email}" + (", with admin rights" if admin else ""))
    click.echo(f"Added {'admin' if admin else 'reviewer'} {account.email}.")
    if account.password:
        click.echo(f"Password (shown once, give it to them in person): {account.password}")


@reviewer_group.command("disable")
@click.argument("email")
def reviewer_disable(email: str) -> None:
    """Stop a reviewer signing in, and end their sessions now."""
    from ..review import auth

    row = _account(email)
    auth.set_active(row, False)
    click.echo(f"Disabled {row['email']}; their sessions have ended.")


@reviewer_group.command("enable")
@click.argument("email")
def reviewer_enable(email: str) -> None:
    """Let a disabled reviewer sign in again."""
    from ..review import auth

    row = _account(email)
    auth.set_active(row, True)
    click.echo(f"Enabled {row['email']}.")


@reviewer_group.command("reset")
@click.argument("email")
def reviewer_reset(email: str) -> None:
    """Give a reviewer a new generated password (printed once) and end their sessions."""
    from ..review import auth

    account = auth.reset_password(_account(email))
    audit("reviewer_reset", f"reviewer {account.email}")
    click.echo(f"New password for {account.email} (shown once): {account.password}")
    click.echo("Their sessions have ended.")


@reviewer_group.command("reset-two-step")
@click.argument("email")
def reviewer_reset_two_step(email: str) -> None:
    """Forget a reviewer's authenticator app, passkeys and recovery codes, and end their sessions: they
    set up a new second step at their next sign-in (the way back for a lone admin who lost all three)."""
    from ..review import twostep

    row = _account(email)
    store.clear_two_step(get_db(), row["id"])
    twostep.end_sessions_after_reset(row["id"])
    audit("two_step_reset", f"reviewer {row['email']}")
    click.echo(f"Reset the second step of {row['email']}; their sessions have ended.")


@reviewer_group.command("list")
def reviewer_list() -> None:
    """List every reviewer with their role and state."""
    rows = store.list_reviewers(get_db())
    if not rows:
        click.echo("No reviewers yet. Add one with: screening reviewer add EMAIL --admin")
    for row in rows:
        role = "admin" if row["is_admin"] else "reviewer"
        state = "active" if row["active"] else "disabled"
        click.echo(f"{row['email']}\t{role}\t{state}\tadded {row['created'][:10]}")


@reviewer_group.command("first-run")
def reviewer_first_run() -> None:
    """Create a first admin when there is no reviewer at all, and print its password once."""
    from ..review import auth

    if store.count_reviewers(get_db()):
        click.echo("Reviewer accounts exist; no first admin needed.")
        return
    try:
        account = auth.create_account(FIRST_ADMIN_EMAIL, is_admin=True)
    except auth.AccountError:
        click.echo("Reviewer accounts exist; no first admin needed.")
        return
    audit("reviewer_add", f"first admin {account.email}, with admin rights")
    click.echo(
        "\n".join(
            [
                "",
                "=" * 72,
                "First run: created an admin account for the reviewers' pages (/review/).",
                f"  email:    {account.email}",
                f"  password: {account.password}",
                "This password is shown ONCE and is not stored anywhere. Sign in (you will be",
                "asked to choose your own password), add real reviewers under Reviewers, then",
                "disable this account.",
                "=" * 72,
                "",
            ]
        )
    )
