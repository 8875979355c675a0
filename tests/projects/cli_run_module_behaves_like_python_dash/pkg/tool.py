import sys

print(__name__, __spec__.name, sys.argv[1:], sys.argv[0].endswith("tool.py"))
