import pages
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

app = FastAPI()


@app.get("/", response_class=HTMLResponse)
def index():
    return pages.render("fastapi")


@app.get("/data")
def data():
    return {"v": 1}
