"""The program's log sink, added at import."""

import sys

from loguru import logger

logger.add(sys.stdout, format="app: {message}", level="INFO")
