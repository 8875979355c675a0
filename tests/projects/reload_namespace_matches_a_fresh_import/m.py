"""Old docstring."""

import json

GONE = 1
x: int = 1


def gone_func():
    return 1


class Gone:
    pass


KEEP = [1]
