import typer

app = typer.Typer()


@app.command()
def greet(name: str) -> None:
    print(f"greetings {name}")


@app.command()
def farewell() -> None:
    print("bye")
