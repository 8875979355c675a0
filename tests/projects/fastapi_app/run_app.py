import sys

import uvicorn
from app.routers import items
from fastapi import FastAPI

app = FastAPI()
app.include_router(items.router)


@app.middleware("http")
async def version_header(request, call_next):
    response = await call_next(request)
    response.headers["x-version"] = "mw-v1"
    return response


@app.get("/")
def root() -> dict[str, str]:
    return {"v": "root-v1"}


if __name__ == "__main__":
    uvicorn.run(app, port=int(sys.argv[1]))
