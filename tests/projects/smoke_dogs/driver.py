import hotmod
from scenario import edit

import dogs
import kennel
from dogs import bark, famous

edit("dogs.py")
report = hotmod.reload("dogs")
assert report.ok, report
assert report.reloaded == ["dogs", "kennel"], report.reloaded
print(famous, kennel.famous, kennel.count, bark())
