import builtins

builtins.RUNS = getattr(builtins, "RUNS", 0) + 1
from lib import GREETING


def speak():
    return "old " + GREETING


class Bot:
    def talk(self):
        return "old bot"


saved, bot = speak, Bot()
if __name__ == "__main__":
    import hotmod
    import sys

    with open(__file__) as f:
        src = f.read()
    src = src.replace('"old " + GREETING', '"new " + GREETING')
    src = src.replace('"old bot"', '"new bot"')
    with open(__file__, "w") as f:
        f.write(src)
    with open("lib.py", "w") as f:
        f.write("GREETING = 'hello'\n")
    report = hotmod.reload(sys.modules["__main__"])
    assert report.ok, report
    report = hotmod.reload("lib")
    assert report.ok, report
    print(builtins.RUNS, saved(), bot.talk(), GREETING, speak is saved)
