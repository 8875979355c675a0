from fastapi import APIRouter
from pydantic import BaseModel

router = APIRouter()


class Item(BaseModel):
    value: int


@router.get("/items/{item_id}", response_model=Item)
def read_item(item_id: int) -> Item:
    return Item(value=item_id)
