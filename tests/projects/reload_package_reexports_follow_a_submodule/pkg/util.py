LOG.append("pkg.util")


def helper(s):
    return s.upper()
