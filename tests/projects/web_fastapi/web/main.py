import time

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from web import helpers, pair_a, pair_b
from web.models import describe

app = FastAPI()


@app.get("/", response_class=PlainTextResponse)
async def index():
    return helpers.render("handler-v1")


@app.get("/model", response_class=PlainTextResponse)
async def model():
    return describe()


@app.get("/pair", response_class=PlainTextResponse)
def pair():  # a sync endpoint: runs in uvicorn's thread pool
    a = pair_a.VALUE
    time.sleep(0.002)
    return f"{a}:{pair_b.DOUBLE}"
