from fastapi import APIRouter, Depends

from app.deps import get_tag
from app.models import Item

router = APIRouter(prefix="/items")


@router.post("/")
def create(item: Item) -> Item:
    return item


@router.get("/tag")
def tag(t: str = Depends(get_tag)) -> dict[str, str]:
    return {"tag": t}
