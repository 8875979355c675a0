import hotmod

ITEMS = hotmod.keep("items", list)
