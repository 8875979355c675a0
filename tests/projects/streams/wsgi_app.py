import time

import handlers
from flask import Flask

app = Flask(__name__)


@app.route("/")
def index():
    return handlers.message()


@app.route("/stream")
def stream():
    def ticks():
        while True:
            yield "tick\n"
            time.sleep(0.05)

    return app.response_class(ticks(), mimetype="text/plain")
