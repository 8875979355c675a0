"""Routes decorated on an app created in another module."""

from core import app


@app.route("/")
def index():
    return "v1"
