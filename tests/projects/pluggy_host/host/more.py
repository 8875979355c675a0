"""A hook specification added by another module, and a named plugin implementing it."""

from host.specs import hookimpl, hookspec, pm


class MoreSpec:
    @hookspec
    def farewell(self) -> str: ...


pm.add_hookspecs(MoreSpec)


class Bye:
    @hookimpl
    def farewell(self) -> str:
        return "bye"

    @hookimpl
    def pick(self) -> str:
        return "bye"


pm.register(Bye(), name="bye")
