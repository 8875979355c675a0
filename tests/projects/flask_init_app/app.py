import sys

from flask import Flask

import views

app = Flask(__name__)
views.register(app)  # called once, by the script's top level

if __name__ == "__main__":
    app.run(port=int(sys.argv[1]))
