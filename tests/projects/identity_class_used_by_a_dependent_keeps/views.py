from models import User

CURRENT = User()
KIND = User
