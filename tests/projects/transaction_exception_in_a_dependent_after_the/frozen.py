__hotmod_reload__ = False
from a import X
