import sys
import traceback


def where():
    return sys._getframe().f_lineno


def fail():
    raise ValueError("x")
