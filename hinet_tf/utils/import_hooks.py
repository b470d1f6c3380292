"""Import hooks: find a module with the other finders, then run its import through a wrapped loader."""

import sys


def find_spec_with_loader(hook, fullname, path, target, wrap_loader):
    """The spec the finders after `hook` give `fullname`, its loader replaced by `wrap_loader(loader)`."""
    for finder in sys.meta_path:
        if finder is hook or not hasattr(finder, "find_spec"):
            continue
        spec = finder.find_spec(fullname, path, target)
        if spec is not None:
            if spec.loader is not None:
                spec.loader = wrap_loader(spec.loader)
            return spec
    return None
