def count(n):
    for i in range(n):
        yield i * 10


async def fetch():
    return "new"


async def agen():
    yield "new"
