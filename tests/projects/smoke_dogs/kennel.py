import dogs
from dogs import famous

count = len(dogs.famous)
