import asyncio

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from web import helpers, pair_a, pair_b
from web.models import describe


async def index(request):
    return PlainTextResponse(helpers.render("handler-v1"))


async def model(request):
    return PlainTextResponse(describe())


async def pair(request):
    a = pair_a.VALUE
    await asyncio.sleep(0.002)  # a reload between the two reads would pair old with new
    return PlainTextResponse(f"{a}:{pair_b.DOUBLE}")


app = Starlette(routes=[Route("/", index), Route("/model", model), Route("/pair", pair)])
