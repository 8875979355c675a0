import logging

logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
from hotmod.wsgi import serve

serve("web.main:app", port=0)
