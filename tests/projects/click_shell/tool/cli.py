import click


@click.group()
def cli() -> None:
    """The tool."""


@cli.command()
@click.argument("name")
def hello(name: str) -> None:
    click.echo(f"hello {name}")


@cli.command()
def version() -> None:
    click.echo("1.0")
