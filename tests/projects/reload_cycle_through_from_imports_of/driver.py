import hotmod
from scenario import read, write

import ping
import pong
f = ping.ping
write("pong.py", read("pong.py").replace("'pong'", "'PONG'"))
report = hotmod.reload("pong")
assert report.ok, report
assert set(report.reloaded) == {"ping", "pong"}, report.reloaded
print(f(1), pong.ping is ping.ping)
