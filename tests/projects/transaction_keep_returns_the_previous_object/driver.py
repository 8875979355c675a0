import hotmod
from scenario import capture_log, replace

capture_log()
import db

conn, cache = db.conn, db.cache
cache["k"] = "v"
replace("db.py", "VERSION = 1", "VERSION = 2")
assert hotmod.reload("db").ok
assert db.VERSION == 2 and db.conn is conn and db.cache is cache
assert LOG == ["connect"] and cache == {"k": "v"}, LOG
