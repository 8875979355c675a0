import time

from flask import Flask

from web import helpers, pair_a, pair_b
from web.models import describe

app = Flask(__name__)


@app.get("/")
def index():
    return helpers.render("handler-v1")


@app.get("/model")
def model():
    return describe()


@app.get("/pair")
def pair():
    a = pair_a.VALUE
    time.sleep(0.002)  # a reload between the two reads would pair old with new
    return f"{a}:{pair_b.DOUBLE}"
