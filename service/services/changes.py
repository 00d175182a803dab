"""What an ORM object's columns were changed to since it was loaded, read from its state's dicts.

The ORM keeps the value an attribute replaced in `committed_state` (NO_VALUE when it was flagged
modified or not loaded before). Comparing there costs a dict lookup per set attribute, where asking
each column for its history object cost more than the case row's UPDATE (services/firing.py) and
than the counts' deltas themselves (services/figures.py).
"""
from sqlalchemy import inspect
from sqlalchemy.orm.base import NO_VALUE


def changed(obj, names):
    """{column: new value} of the columns in `names` that `obj` holds changed (empty when none)."""
    state = inspect(obj)
    loaded = state.dict
    return {key: loaded[key] if key in loaded else getattr(obj, key)
            for key, before in state.committed_state.items()
            if key in names and (before is NO_VALUE or key not in loaded or before != loaded[key])}
