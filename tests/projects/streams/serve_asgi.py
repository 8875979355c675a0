import sys

from hotmod.asgi import serve

# No bound: a reload that waited for the open stream would never happen.
serve("asgi_app:app", port=int(sys.argv[1]), hold_timeout=None)
