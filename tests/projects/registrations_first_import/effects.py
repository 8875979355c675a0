import atexit
import logging
import signal
import warnings

VERSION = 0
log = logging.getLogger("effects")
log.addHandler(logging.NullHandler())
log.addFilter(lambda record: True)
warnings.filterwarnings("ignore", message=f"effects {VERSION}")


def bye():
    print("bye", VERSION)


atexit.register(bye)
signal.signal(signal.SIGUSR1, lambda signum, frame: print("usr1", VERSION))
