"""Error messages of one line: the gist of a library's error, a list of names cut short, text safe for a terminal."""

import os

# Keras wraps the error of a failed deserialization in a page of config after this marker.
_KERAS_CAUSE = "Exception encountered: "


def first_line(error):
    """The first line of `error`'s message (of its cause, for Keras' deserialization errors), or its type's name."""
    text = str(error)
    if _KERAS_CAUSE in text:
        text = text.rsplit(_KERAS_CAUSE, 1)[1]
    lines = text.strip().splitlines()
    return lines[0] if lines else type(error).__name__


def describe_names(names, shown=5):
    """`a, b, c and 4 more`: the first `shown` of `names`, for a one-line message."""
    names = list(names)
    listed = ", ".join(names[:shown])
    return listed + (f" and {len(names) - shown} more" if len(names) > shown else "")


def broken_link(path):
    """`PATH is a broken link to TARGET` if `path` is a symbolic link to nothing, else None."""
    if os.path.islink(path) and not os.path.exists(path):
        return f"{path} is a broken link to {os.readlink(path)}"
    return None


def one_line(text):
    """`text` with line breaks and other unprintable characters escaped (as `repr` writes them).

    A file name may hold a newline; its message must still be one line on the terminal.
    """
    return "".join(character if character.isprintable() else repr(character)[1:-1] for character in str(text))
