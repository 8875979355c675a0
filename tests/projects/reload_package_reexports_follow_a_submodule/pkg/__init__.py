LOG.append("pkg")
from .models import Model, NAME
from . import util
