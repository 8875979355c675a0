import asyncio

import handlers
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Route


async def index(request):
    return PlainTextResponse(handlers.message())


async def stream(request):
    async def ticks():
        while True:
            yield "tick\n"
            await asyncio.sleep(0.05)

    return StreamingResponse(ticks(), media_type="text/plain")


app = Starlette(routes=[Route("/", index), Route("/stream", stream)])
