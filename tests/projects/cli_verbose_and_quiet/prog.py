"""Two saves of helper.py under `hotmod run`: one that applies, one that does not compile."""

import queue

import helper

import hotmod

reports = queue.Queue()
watcher = hotmod.watch(on_reload=reports.put)  # the running watcher of `hotmod run`


def save(text):
    with open(helper.__file__, "w") as f:
        f.write(text)


save("def value():\n    return 'new'\n")
print("1", reports.get(timeout=10).ok, helper.value(), flush=True)
save("def value(:\n")
print("2", reports.get(timeout=10).ok, helper.value(), flush=True)
