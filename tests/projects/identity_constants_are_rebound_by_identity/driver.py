from scenario import edit, reload

import conf
import user
from conf import LIMIT, NAME

mine = 5
edit("conf.py")
reload("conf", cascade=False)
print(user.LIMIT, user.OTHER, user.ALIAS, LIMIT, NAME, mine)
