import functools

CALLS = []


@functools.lru_cache(maxsize=None)
def square(n):
    CALLS.append(n)
    return n * n
