import os

from flask import Flask


def create_app(test_config=None):
    """The Flask tutorial's application factory."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        SECRET_KEY="dev", DATABASE=os.path.join(app.instance_path, "flaskr.sqlite")
    )
    if test_config is not None:
        app.config.from_mapping(test_config)

    @app.route("/hello")
    def hello():
        return "hello-v1"

    from . import db

    db.init_app(app)

    from . import auth, blog

    app.register_blueprint(auth.bp)
    app.register_blueprint(blog.bp)
    app.add_url_rule("/", endpoint="index")
    return app
