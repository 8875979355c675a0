import sys

from flask import Flask

app = Flask(__name__)
hits = []


@app.before_request
def count():
    hits.append(1)


@app.route("/")
def index():
    return "index-v1"


@app.route("/gone")
def gone():
    return "gone"


@app.route("/hits")
def show_hits():
    return str(len(hits))


if __name__ == "__main__":
    app.run(port=int(sys.argv[1]))
