import click

from .cli import cli

ADMIN = click.Group("admin")  # a group made by assignment, not by a decorator
cli.add_command(ADMIN)


@ADMIN.command()
def status() -> None:
    click.echo("all good")


@cli.command()
def stats() -> None:
    click.echo("3 users")
