"""Work that logs."""

from loguru import logger


def work() -> None:
    logger.info("working")
