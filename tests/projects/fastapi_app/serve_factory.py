import sys

from hotmod.asgi import serve

serve("app.factory:create_app", factory=True, port=int(sys.argv[1]))
