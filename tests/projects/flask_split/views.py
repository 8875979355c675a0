from core import app


@app.route("/")
def index():
    return "index-v1"


@app.route("/gone")
def gone():
    return "gone"
