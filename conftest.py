"""Collection rules for the whole tree: modules whose optional imports are absent are not collected for doctests."""

import importlib.util

collect_ignore_glob = []
if importlib.util.find_spec("fastapi") is None or importlib.util.find_spec("pydantic") is None:
    collect_ignore_glob.append("src/rnnlab/serving/*.py")  # the service needs fastapi (e.g. absent on a GPU image)
