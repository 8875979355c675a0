from lib import X
