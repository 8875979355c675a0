import hotmod

ITEMS = hotmod.keep("ITEMS", list)
VERSION = 1
