"""Process state that edits elsewhere must not reset."""

import itertools

VISITS = itertools.count(1)
