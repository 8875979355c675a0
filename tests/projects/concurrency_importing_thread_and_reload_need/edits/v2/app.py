import builtins

builtins.RELOAD_RUNNING.set()
import helper  # the other thread is still importing it

V = helper.H + 1
