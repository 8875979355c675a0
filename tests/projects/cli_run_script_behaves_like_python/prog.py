import sys

print(__name__, sys.argv[1:], sys.path[0] == __import__("os").getcwd())
sys.exit(int(sys.argv[2]))
