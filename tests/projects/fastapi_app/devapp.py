from hotmod.asgi import HotReload

app = HotReload("app.main:app")
