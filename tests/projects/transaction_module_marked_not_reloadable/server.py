__hotmod_reload__ = False
LOG.append("server")
from conf import LIMIT
import conf

DOUBLE = conf.LIMIT * 2
