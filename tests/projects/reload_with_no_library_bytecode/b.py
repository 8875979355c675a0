from a import VALUE

DOUBLE = VALUE * 2
