"""The one form renderer: JSON Schema (+ UI schema) → fields for the templates, posted form → typed data.

Validation is not done here: the parsed data goes to the services (services/forms.py), whose
{path: Chinese message} errors come back and are placed next to the fields. What the user typed
is kept as typed (raw strings), so a value that does not parse is shown again with its error.
"""
import json
import re
from dataclasses import dataclass, field

from ..datapath import at
from ..services.masking import mask_data

# A username of a member of staff: shown and chosen by name and post, stored as the username.
STAFF_FORMAT = 'staff-username'
_INTEGER = re.compile(r'^[+-]?\d+$')
_NUMBER = re.compile(r'^[+-]?(\d+(\.\d*)?|\.\d+)$')


@dataclass
class Field:
    path: str
    title: str
    kind: str   # group text textarea integer number date month boolean checkbox select radio list
    required: bool = False
    help: str = ''
    options: list = field(default_factory=list)   # [(raw value, label)]
    children: list = field(default_factory=list)
    pattern_hint: str = ''
    fixed_text: str | None = None   # known from the case and read-only: shown, not typed again

    @property
    def input_id(self):
        return 'f-' + self.path.replace('.', '-')


def _options(schema):
    """[(raw, label, value)] of an enum given as oneOf/anyOf const+title, or enum (+ enumNames)."""
    for word in ('oneOf', 'anyOf'):
        choices = schema.get(word)
        if choices and all(isinstance(c, dict) and 'const' in c for c in choices):
            return [(_raw(c['const']), c.get('title') or str(c['const']), c['const']) for c in choices]
    if 'enum' in schema:
        names = schema.get('enumNames') or []
        return [(_raw(v), names[i] if i < len(names) else str(v), v) for i, v in enumerate(schema['enum'])]
    return None


def _raw(value):
    """How a value is written into an input: strings as they are, everything else as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return json.dumps(value, ensure_ascii=False)


def is_file(schema, ui=None):
    """A file or photo field: `format: data-url`, `x-widget: file` or `ui:widget: file`. Its value in the
    data is the attachment's number (services/attachments.py), never the bytes."""
    return schema.get('format') == 'data-url' or 'file' in (schema.get('x-widget'), (ui or {}).get('ui:widget'))


# Rows shown for a list of objects (家庭成员): empty rows are dropped when the form is read.
DEFAULT_ROWS = 6


def _is_rows(schema):
    """A list of objects (each row a small group of fields), e.g. the household's members."""
    items = schema.get('items')
    return schema.get('type') == 'array' and isinstance(items, dict) and 'properties' in items


def _row_count(schema):
    return int(schema.get('x-rows') or min(int(schema.get('maxItems') or DEFAULT_ROWS), DEFAULT_ROWS))


def _kind(schema, ui):
    widget = (ui or {}).get('ui:widget')
    if _is_rows(schema):
        return 'rows'

    if is_file(schema, ui):
        return 'file'
    if schema.get('format') == STAFF_FORMAT:
        return 'staff'      # a select of staff names; its options come from the users list (fill_staff)
    kind = schema.get('type')
    if isinstance(kind, list):
        kind = next((k for k in kind if k != 'null'), None)
    if kind == 'object' or 'properties' in schema:
        return 'group'
    if _options(schema) is not None:
        return 'radio' if widget == 'radio' else 'select'
    if kind == 'boolean':
        return 'checkbox' if widget == 'checkbox' else 'boolean'
    if kind == 'integer':
        return 'integer'
    if kind == 'number':
        return 'number'
    if kind == 'array':
        return 'list'
    if schema.get('format') == 'date':
        return 'date'
    if widget == 'textarea':
        return 'textarea'
    return 'text'


def _ordered(properties, ui):
    order = list((ui or {}).get('ui:order') or [])
    rest = [name for name in properties if name not in order]
    if '*' in order:
        at = order.index('*')
        order = order[:at] + rest + order[at + 1:]
    else:
        order += rest
    return [name for name in order if name in properties]


def fields(schema, ui=None, prefix=''):
    """The fields of an object schema, in UI order; nested objects become groups."""
    props = schema.get('properties') or {}
    required = set(schema.get('required') or [])
    out = []
    for name in _ordered(props, ui):
        sub, sub_ui = props[name], (ui or {}).get(name) or {}
        path = f'{prefix}{name}'
        kind = _kind(sub, sub_ui)
        f = Field(path=path, title=sub.get('title') or name, kind=kind, required=name in required,
                  help=sub_ui.get('ui:help') or sub.get('description') or '')
        if kind == 'group':
            f.children = fields(sub, sub_ui, path + '.')
        elif kind == 'rows':
            # Shown as a group of numbered row groups: the template needs nothing new.
            item_title = sub['items'].get('title') or '第'
            f.kind = 'group'
            f.children = [Field(path=f'{path}.{i}', title=f'{item_title}{i + 1}', kind='group',
                                children=fields(sub['items'], sub_ui.get('items'), f'{path}.{i}.'))
                          for i in range(_row_count(sub))]
        elif kind in ('select', 'radio'):
            f.options = [(raw, label) for raw, label, _ in _options(sub)]
        elif kind == 'boolean':
            f.options = [('true', '是'), ('false', '否')]
        elif kind == 'list':
            f.help = (f.help + '；' if f.help else '') + '每行填写一项'
        if sub.get('pattern') == '^[0-9]{4}-(0[1-9]|1[0-2])$':
            f.pattern_hint = '如 2026-11'
        out.append(f)
    return out


# ------------------------------------------------------------------ posted form → data

def _parse_value(schema, ui, raw, present):
    """(has value, value) for one posted field."""
    kind = _kind(schema, ui)
    if kind == 'checkbox':
        return True, raw == 'true'      # an unticked box is not posted at all: it means "no"
    if not present:
        return False, None
    if kind == 'file':
        # The hidden input carries the attachment's number (views_attachments put a new upload's there).
        raw = raw.strip()
        if not raw.isdigit():
            return False, None
        return True, int(raw) if schema.get('type') == 'integer' else raw
    if kind == 'list':
        items = [line.strip() for line in raw.splitlines() if line.strip()]
        return bool(items), items
    raw = raw.strip()
    if raw == '':
        return False, None
    if kind in ('select', 'radio'):
        for option_raw, _, value in _options(schema):
            if option_raw == raw:
                return True, value
        return True, raw
    if kind == 'boolean':
        return True, {'true': True, 'false': False}.get(raw, raw)
    if kind == 'integer' and _INTEGER.match(raw):
        return True, int(raw)
    if kind == 'number' and _NUMBER.match(raw):
        return True, int(raw) if _INTEGER.match(raw) else float(raw)
    # Anything unparseable stays text: the validator names the type it should have been.
    return True, raw


def parse(schema, form, ui=None, prefix=''):
    """The typed data of a posted form (a werkzeug MultiDict) for an object schema."""
    props = schema.get('properties') or {}
    required = set(schema.get('required') or [])
    data = {}
    for name, sub in props.items():
        sub_ui = (ui or {}).get(name) or {}
        path = f'{prefix}{name}'
        if _kind(sub, sub_ui) == 'group':
            child = parse(sub, form, sub_ui, path + '.')
            # A required group is sent even when empty, so each missing field gets its own error.
            if child or name in required:
                data[name] = child
            continue
        if _kind(sub, sub_ui) == 'rows':
            rows = [parse(sub['items'], form, sub_ui.get('items'), f'{path}.{i}.') for i in range(_row_count(sub))]
            rows = [row for row in rows if row]
            if rows or name in required:
                data[name] = rows
            continue
        has, value = _parse_value(sub, sub_ui, form.get(path, ''), path in form)
        if has:
            data[name] = value
    return data


def raw_values(form):
    """What the user typed, by field path, to show it again."""
    return {key: form.get(key, '') for key in form.keys() if key != 'csrf_token'}


def _input(value):
    return '\n'.join(str(v) for v in value) if isinstance(value, list) else _raw(value)


def prefill(schema, data=None, today=None, ui=None, prefix=''):
    """Input values of a form before anyone types, by field path: what the case already holds (under
    the field's own name, or the path its `x-from` names), else the schema's `default`, else today's
    date for a date field (unless it says `"x-prefill-today": false`, as a deadline does)."""
    out = {}
    for name, sub in (schema.get('properties') or {}).items():
        sub_ui = (ui or {}).get(name) or {}
        path = f'{prefix}{name}'
        kind = _kind(sub, sub_ui)
        if kind == 'group':
            out.update(prefill(sub, data, today, sub_ui, path + '.'))
            continue
        if kind == 'rows':
            out.update(_row_values(sub, at(data or {}, sub.get('x-from') or path), sub_ui, path))
            continue
        value = at(data or {}, sub.get('x-from') or path)
        if value is None and 'default' in sub:
            value = sub['default']
        if value is None and kind == 'date' and today and sub.get('x-prefill-today', True):
            value = today
        if value is not None:
            out[path] = _input(value)
    return out


def fixed(schema, data, ui=None, prefix=''):
    """{path: value} of the `readOnly` fields whose value the case already holds (`x-from` or the
    same name): the page shows them and takes them from the case, nobody types them again."""
    out = {}
    for name, sub in (schema.get('properties') or {}).items():
        sub_ui = (ui or {}).get(name) or {}
        path = f'{prefix}{name}'
        if _kind(sub, sub_ui) == 'group':
            out.update(fixed(sub, data, sub_ui, path + '.'))
        elif sub.get('readOnly'):
            value = at(data or {}, sub.get('x-from') or path)
            if value is not None:
                out[path] = value
    return out


def with_fixed(data, known):
    """The posted data with the read-only known values put in (what was posted for them is ignored)."""
    for path, value in known.items():
        *parents, last = path.split('.')
        target = data
        for name in parents:
            target = target.setdefault(name, {})
        target[last] = value
    return data


def _walk(items):
    for f in items:
        yield f
        yield from _walk(f.children)


def mark_fixed(field_list, schema, known):
    """Give the known read-only fields their display text (ID and phone numbers masked)."""
    if not known:
        return field_list
    from . import datarows  # datarows reads this module's schema helpers
    index = {}

    def walk(sch, prefix):
        for name, sub in (sch.get('properties') or {}).items():
            index[prefix + name] = (name, sub)
            walk(sub, prefix + name + '.')
    walk(schema, '')
    for f in _walk(field_list):
        if f.path in known:
            name, sub = index.get(f.path, (f.path, {}))
            shown = mask_data({name: known[f.path]})[name]
            f.fixed_text = datarows.display(shown, sub)
    return field_list


def fill_staff(field_list, options):
    """Staff pickers (`format: staff-username`) become selects of [(username, name and post)]."""
    for f in _walk(field_list):
        if f.kind == 'staff':
            f.kind, f.options = 'select', list(options)
    return field_list


def _row_values(schema, rows, ui, path):
    out = {}
    for i, row in enumerate(rows if isinstance(rows, list) else []):
        out.update(values_from_data(schema['items'], row, (ui or {}).get('items'), f'{path}.{i}.'))
    return out


def values_from_data(schema, data, ui=None, prefix=''):
    """Input values for a form pre-filled from the case data."""
    out = {}
    if not isinstance(data, dict):
        return out
    props = schema.get('properties') or {}
    for name, sub in props.items():
        if name not in data:
            continue
        sub_ui = (ui or {}).get(name) or {}
        value, path = data[name], f'{prefix}{name}'
        if _kind(sub, sub_ui) == 'group':
            out.update(values_from_data(sub, value, sub_ui, path + '.'))
        elif _kind(sub, sub_ui) == 'rows':
            out.update(_row_values(sub, value, sub_ui, path))
        elif isinstance(value, list):
            out[path] = '\n'.join(str(v) for v in value)
        elif value is not None:
            out[path] = _raw(value)
    return out


def place_errors(field_list, errors):
    """(errors by field path, errors that belong to no field) from the services' {path: message}."""
    paths = []

    def walk(items):
        for f in items:
            paths.append(f.path)
            walk(f.children)
    walk(field_list)
    placed, loose = {}, []
    for path, message in (errors or {}).items():
        owner = max((p for p in paths if path == p or path.startswith(p + '.')), key=len, default=None)
        if owner is None:
            loose.append(f'{path}：{message}' if path not in ('$', '') else message)
        else:
            placed.setdefault(owner, message)
    return placed, loose
