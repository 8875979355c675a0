from pathlib import Path

import hotmod

SOURCE = Path(__file__).read_text()


@hotmod.reloadable
def step():
    return "step1"


@hotmod.reloadable
async def astep():
    return "astep1"


class Shape:
    @hotmod.reloadable
    def area(self):
        return "area1"
