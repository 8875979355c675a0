from hotmod.asgi import HotReload

app = HotReload("app.factory:create_app", factory=True)
