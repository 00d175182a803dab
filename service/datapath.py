"""Reading case data by a dotted path (`acceptance.result`): the notices, the forms and the pages
all look values up this way."""


def at(data, path):
    """The value under `path` in nested dicts, or None where a part is missing or not a dict."""
    for part in path.split('.'):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data
