from scenario import edit, reload

import conf
import user

edit("conf.py")
reload("conf", cascade=False)
assert user.X == "mine", user.X
