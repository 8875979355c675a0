from scenario import edit, reload

import asyncio
import gen
from gen import count, fetch, agen

edit("gen.py")
reload("gen")
assert count is gen.count and fetch is gen.fetch and agen is gen.agen


async def main():
    return await fetch(), [x async for x in agen()]


print(list(count(3)), asyncio.run(main()))
