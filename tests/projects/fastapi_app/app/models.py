from pydantic import BaseModel, Field


class Item(BaseModel):
    name: str
    price: float = Field(gt=0)
