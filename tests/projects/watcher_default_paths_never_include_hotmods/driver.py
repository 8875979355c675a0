import os
import hotmod

import json
import m

w = hotmod.watch()
here = os.path.dirname(os.path.realpath(hotmod.__file__))
print(os.path.realpath(".") in w.paths, any(p.startswith(here) for p in w.paths))
w.stop()
