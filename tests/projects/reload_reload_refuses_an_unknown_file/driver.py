import hotmod

try:
    hotmod.reload("stray.py")
except ValueError as exc:
    print("ValueError:", exc)
