import queue
import hotmod

reports = queue.Queue()
hotmod.watch(on_reload=reports.put)
print("top level ran")


def greet():
    return "old greet"


class Box:
    def label(self):
        return "old label"


box = Box()
with open(__file__) as f:
    source = f.read()
with open(__file__, "w") as f:  # a new import, used by the edited function
    f.write(
        "import textwrap\n"
        + source.replace('"old greet"', 'textwrap.dedent("new greet")').replace('"old ', '"new ')
    )
report = reports.get(timeout=10)
print(report.ok, report.changed, greet(), box.label(), isinstance(box, Box))
