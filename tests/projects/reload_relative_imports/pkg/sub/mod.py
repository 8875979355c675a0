from . import helpers
from .helpers import H
from ..core import BASE

TOTAL = BASE + H
