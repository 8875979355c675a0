LOG.append("pkg.models")
from pkg.util import helper

NAME = helper("old")


class Model:
    kind = NAME
