__hotmod_reload__ = False
