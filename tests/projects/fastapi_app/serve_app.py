import sys

from hotmod.asgi import serve

serve("app.main:app", port=int(sys.argv[1]))
