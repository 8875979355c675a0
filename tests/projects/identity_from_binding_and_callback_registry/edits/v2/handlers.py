from registry import register


@register
def on_event(x):
    return f"new {x}"
