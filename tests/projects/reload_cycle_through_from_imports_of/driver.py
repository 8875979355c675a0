import hotmod
from scenario import replace

import ping
import pong

f = ping.ping
replace("pong.py", '"pong"', '"PONG"')
report = hotmod.reload("pong")
assert report.ok, report
assert set(report.reloaded) == {"ping", "pong"}, report.reloaded
print(f(1), pong.ping is ping.ping)
