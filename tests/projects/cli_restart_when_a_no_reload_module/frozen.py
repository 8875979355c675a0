__hotmod_reload__ = False
VALUE = 1
