import sys

from hotmod.wsgi import serve

# No bound: a reload that waited for the open stream would never happen.
serve("wsgi_app:app", port=int(sys.argv[1]), hold_timeout=None)
