import sys

before = set(sys.modules)
import hotmod

heavy = {
    *("watchdog", "IPython", "werkzeug", "uvicorn", "starlette", "flask"),
    *("dataclasses", "inspect", "asyncio", "hashlib", "hotmod.wsgi", "hotmod.asgi"),
    # the engine, the watcher and what they need load on first use, not at import
    *("logging", "typing", "threading", "ast", "pathlib", "re", "contextvars"),
    *("hotmod._reloader", "hotmod._watcher", "hotmod._safepoint", "hotmod.integrations"),
}
print(sorted(heavy & (set(sys.modules) - before)))
