from . import models
from .models import SIZE

DOUBLE = SIZE * 2
