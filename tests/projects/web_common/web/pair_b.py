from web.pair_a import VALUE

DOUBLE = VALUE * 2
