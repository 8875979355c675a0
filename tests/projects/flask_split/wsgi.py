import views  # registers the routes
from core import app

__all__ = ["app", "views"]
