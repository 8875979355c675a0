from scenario import reload, replace

import routes

index, View = routes.index, routes.View
replace("routes.py", '"old"', '"new"')
reload("routes")
assert routes.index is index and routes.View is View
assert routes.ROUTES["/"] is index, routes.ROUTES
hooks = routes.HOOKS
assert hooks == [index, View] and hooks[0] is index
assert routes.ROUTES["/"]() == "new"
