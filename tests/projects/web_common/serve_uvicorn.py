import logging

logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
from hotmod.asgi import serve

serve("web.main:app", port=0, log_level="info")
