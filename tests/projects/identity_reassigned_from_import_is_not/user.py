from conf import X

X = "mine"  # noqa: F811 (the user's own value replaces the import)
