import sqlite3

import click
from flask import g


def get_db():
    if "db" not in g:
        g.db = sqlite3.connect(":memory:")
    return g.db


def close_db(e=None):
    db = g.pop("db", None)
    if db is not None:
        db.close()


@click.command("init-db")
def init_db_command():
    """Clear the existing data and create new tables."""
    click.echo("Initialized the database.")


def init_app(app):
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)
