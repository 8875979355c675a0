from c import *
import a
