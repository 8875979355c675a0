import c

LABEL = c.NAME.upper()
