from hotmod.asgi import HotReload

app = HotReload("web.main:app")
