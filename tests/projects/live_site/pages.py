def render(title):
    return f"<!doctype html><html><head><title>{title}</title></head><body><h1>page-v1</h1></body></html>"
