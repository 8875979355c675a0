from flask import Blueprint

from .db import get_db

bp = Blueprint("blog", __name__)


@bp.route("/")
def index():
    get_db()
    return "index-v1"


@bp.route("/post/<int:id>")
def post(id):
    return f"post {id}"
