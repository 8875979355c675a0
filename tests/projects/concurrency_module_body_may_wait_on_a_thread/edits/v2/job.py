import concurrent.futures
import datetime

with concurrent.futures.ThreadPoolExecutor(1) as pool:
    # strptime imports _strptime lazily in the worker thread
    V = pool.submit(lambda: datetime.datetime.strptime("2", "%d").day).result(10)
