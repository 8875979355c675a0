import sys

from hotmod.wsgi import serve

serve("wsgi:app", port=int(sys.argv[1]))
