from hotmod.asgi import HotReload

app = HotReload("site_fastapi:app", live=True)
