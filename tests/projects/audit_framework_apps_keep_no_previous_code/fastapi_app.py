from fastapi import FastAPI

from fastapi_routes import router

app = FastAPI()
app.include_router(router)
