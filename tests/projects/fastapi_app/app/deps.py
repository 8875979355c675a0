def get_tag() -> str:
    return "tag-v1"
