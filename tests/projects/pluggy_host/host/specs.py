"""The plugin manager and its hooks."""

import pluggy

hookspec = pluggy.HookspecMarker("host")
hookimpl = pluggy.HookimplMarker("host")


class Spec:
    @hookspec
    def greet(self) -> str: ...

    @hookspec(firstresult=True)
    def pick(self) -> str: ...


pm = pluggy.PluginManager("host")
pm.add_hookspecs(Spec)
