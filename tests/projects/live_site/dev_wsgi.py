import sys

from hotmod.wsgi import serve

serve("site_flask:app", port=int(sys.argv[1]), live=True)
