import hotmod

with hotmod.watch(".") as w:
    again = hotmod.watch("sub")
    print(again is w, w.running, len(w.paths))
print(w.running)
