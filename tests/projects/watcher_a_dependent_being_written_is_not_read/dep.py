from leaf import VALUE

STARTED = VALUE  # (computed: it runs, never bound only: no text of it known before it ran)


def first():
    return VALUE


def second():
    return VALUE * 2
