from scenario import edit, reload

import models
import views

U, cur = models.User, views.CURRENT
edit("models.py")
report = reload("models")
assert report.reloaded == ["models", "views"], report
assert models.User is U and views.User is U and views.KIND is U
# views was re-executed: a fresh instance, of the kept class
assert views.CURRENT is not cur and type(views.CURRENT) is U
assert isinstance(cur, models.User) and cur.name() == "new"
