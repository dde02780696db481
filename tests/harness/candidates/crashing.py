"""A candidate whose bootstrap fails (test stand-in)."""


def bootstrap():
    raise RuntimeError("the candidate's bootstrap exploded on purpose")
