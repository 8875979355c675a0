from flask import Flask

from flask_views import bp

app = Flask(__name__)
app.register_blueprint(bp)
