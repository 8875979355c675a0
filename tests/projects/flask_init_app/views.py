from flask import url_for


def register(app):
    @app.route("/")
    def home():
        return "home-v1 " + url_for("profile", user="x")

    @app.route("/u/<user>", endpoint="profile")
    def profile(user):
        return "profile " + user
