from scenario import edit, reload

import m

Tool = m.Tool
edit("m.py")
reload("m")
assert type(m.DEFAULT) is Tool and all(type(t) is Tool for t in m.TOOLS)
assert isinstance(m.DEFAULT, Tool) and m.DEFAULT.use() == "new"
