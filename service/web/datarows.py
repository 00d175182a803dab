"""The case data as readable rows for the case, task and archive pages: each value under its
form's title, in the words its form offers (options, yes/no, staff names, attachments), ID and
phone numbers masked. The forms themselves are formrender.py's."""
import json

from ..services import forms
from ..services.masking import mask_data
from . import fmt, people
from .formrender import STAFF_FORMAT, _options, is_file

def _label_index(extra_schemas=()):
    """{data path: (title, schema)} from every form in forms/ (and the message forms)."""
    index = {}

    def walk(schema, prefix):
        for name, sub in (schema.get('properties') or {}).items():
            if not isinstance(sub, dict):
                continue
            index.setdefault(prefix + name, (sub.get('title') or name, sub))
            if sub.get('type') == 'object' or 'properties' in sub:
                walk(sub, prefix + name + '.')
    for path in sorted(forms.forms_dir().glob('*.schema.json')):
        try:
            walk(forms.load(path.name), '')
        except Exception:  # noqa: BLE001  (a broken form file must not break the case page)
            continue
    for schema in extra_schemas:
        walk(schema, '')
    return index


def display(value, schema):
    if (schema or {}).get('format') == STAFF_FORMAT and isinstance(value, str):
        return people.name(value)
    if is_file(schema or {}) and value not in (None, ''):
        return f'附件第 {value} 号（见附件列表）'
    if isinstance(value, bool):
        return fmt.yes_no(value)
    if isinstance(value, list):
        return '、'.join(display(v, (schema or {}).get('items') or {}) for v in value)
    options = _options(schema or {})
    if options:
        for _, label, option_value in options:
            if option_value == value:
                return label
    if fmt.is_instant(value):
        return fmt.when(value)
    if isinstance(value, dict):
        props = (schema or {}).get('properties')
        if props:   # a row of a list of objects (a household member): its fields by their titles
            return '，'.join(f'{(props.get(k) or {}).get("title") or k}：{display(v, props.get(k))}'
                            for k, v in value.items() if v not in (None, ''))
        return json.dumps(value, ensure_ascii=False)
    return '' if value is None else str(value)


def data_sections(data, extra_schemas=(), hide=()):
    """The case data as [(section title, [(label, text)])], ID and phone numbers masked."""
    index = _label_index(extra_schemas)
    data = mask_data(data or {})
    general, sections = [], []
    for key, value in data.items():
        if key in hide or key.startswith('_'):
            continue
        title, schema = index.get(key, (key, {}))
        title = fmt.DATA_NAMES.get(key, title)   # the data's own name reads better than a form's heading
        if isinstance(value, dict):
            rows = []
            for sub_key, sub_value in value.items():
                sub_title, sub_schema = index.get(f'{key}.{sub_key}', (sub_key, {}))
                rows.append((sub_title, display(sub_value, sub_schema)))
            sections.append((title, rows))
        else:
            if isinstance(value, str):   # a code a script or decision table wrote
                value = fmt.DATA_VALUE_NAMES.get(key, {}).get(value, value)
            general.append((title, fmt.township(value) if key == 'township' else display(value, schema)))
    return ([('基本信息', general)] if general else []) + sections
