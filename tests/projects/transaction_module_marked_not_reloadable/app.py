LOG.append("app")
import server
from conf import LIMIT
