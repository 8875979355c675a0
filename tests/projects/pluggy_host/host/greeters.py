"""Plugins: an instance of a class of this module, and the module itself."""

import sys

from host.specs import hookimpl, pm


class Greeter:
    @hookimpl
    def greet(self) -> str:
        return "hello"

    @hookimpl
    def pick(self) -> str:
        return "greeter"


@hookimpl
def greet() -> str:
    return "module hello"


pm.register(Greeter())
pm.register(sys.modules[__name__])
