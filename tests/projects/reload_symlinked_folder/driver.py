import os
import sys
import hotmod
from scenario import edit

sys.path.insert(0, os.path.abspath("link"))
import user
import lib

assert "link" in lib.__file__
# edit through the symlink, reload by the symlinked path
edit("link/lib.py")
report = hotmod.reload("link/lib.py")
assert report.ok and report.reloaded == ["lib", "user"], report
print(lib.X, user.X)
# edit the real file, reload by the real path
edit("real/lib.py")
report = hotmod.reload(os.path.abspath("real/lib.py"))
assert report.ok and report.reloaded == ["lib", "user"], report
print(lib.X, user.X)
