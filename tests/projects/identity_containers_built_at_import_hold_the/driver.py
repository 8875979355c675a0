from scenario import read, reload, write

import routes
index, View = routes.index, routes.View
src = read("routes.py").replace('"old"', '"new"')
write("routes.py", src)
reload("routes")
assert routes.index is index and routes.View is View
assert routes.ROUTES["/"] is index, routes.ROUTES
assert [index, View] == routes.HOOKS and routes.HOOKS[0] is index
assert routes.ROUTES["/"]() == "new"
