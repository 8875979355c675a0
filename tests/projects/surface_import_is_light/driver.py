import sys

before = set(sys.modules)
import hotmod

heavy = {
    *("watchdog", "IPython", "werkzeug", "uvicorn", "starlette", "flask"),
    *("dataclasses", "inspect", "asyncio", "hashlib", "hotmod.wsgi", "hotmod.asgi"),
}
print(sorted(heavy & (set(sys.modules) - before)))
