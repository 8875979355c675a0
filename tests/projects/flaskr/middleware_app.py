import sys

from werkzeug.serving import run_simple

from hotmod.wsgi import HotReload

app = HotReload("wsgi:app")

if __name__ == "__main__":
    run_simple("127.0.0.1", int(sys.argv[1]), app, threaded=True)
