def render(title):
    head = f"<head><title>{title}</title></head>"
    return f"<!doctype html><html>{head}<body><h1>page-v1</h1></body></html>"
