import sys

from hotmod.wsgi import serve

serve("flaskr:create_app", factory=True, port=int(sys.argv[1]))
