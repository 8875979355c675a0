def count(n):
    for i in range(n):
        yield i


async def fetch():
    return "old"


async def agen():
    yield "old"
