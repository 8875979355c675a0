"""Routes on a blueprint, registered by the module that creates the app."""

from flask import Blueprint

bp = Blueprint("views", __name__)


@bp.route("/")
def index():
    return "v1"
