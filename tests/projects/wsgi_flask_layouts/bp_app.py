from flask import Flask

from bp_views import bp

app = Flask(__name__)
app.register_blueprint(bp)
