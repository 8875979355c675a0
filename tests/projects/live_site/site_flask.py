import pages
from flask import Flask

app = Flask(__name__)


@app.route("/")
def index():
    return pages.render("flask")


@app.route("/data")
def data():
    return {"v": 1}
