import logging
import sys

logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
import uvicorn

sys.exit(uvicorn.main(["devapp:app", "--port", "0", "--log-level", "info"]))
