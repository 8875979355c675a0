from conf import LIMIT
import conf

OTHER = 5  # equal small int, not from-imported
ALIAS = conf.LIMIT  # not a from-import either: a computed value
