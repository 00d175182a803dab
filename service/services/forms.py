"""Task and start forms: JSON Schema files in forms/, validated server-side with Chinese field errors."""
import json
import re
import threading
from datetime import date, timedelta, timezone
from pathlib import Path

from flask import current_app
from jsonschema import Draft202012Validator, FormatChecker
from lxml import etree
from sqlalchemy import bindparam, select
from sqlalchemy.orm import undefer
from stdnum.cn import ric

from ..datapath import at
from ..errors import Conflict, Invalid
from ..extensions import db
from ..models import ProcessDefinition, ProcessInstance
from .context import engine, now

SHANGHAI = timezone(timedelta(hours=8))
_DATE = re.compile(r'^\d{4}-\d{2}-\d{2}$')
_cache = {}
_lock = threading.Lock()

FORMAT_CHECKER = FormatChecker()


@FORMAT_CHECKER.checks('date', raises=ValueError)
def _is_date(value):
    # Python's fromisoformat also takes 20260928 and 2026-W40; forms want YYYY-MM-DD only.
    if not isinstance(value, str):
        return True
    if not _DATE.match(value):
        return False
    date.fromisoformat(value)
    return True


@FORMAT_CHECKER.checks('cn-resident-id')
def is_resident_id(value):
    """A valid 18-digit resident ID: check digit, a real birth date, not in the future."""
    if not isinstance(value, str):
        return True
    if not ric.is_valid(value):
        return False
    try:
        born = ric.get_birth_date(value)
    except Exception:
        return False
    return born <= now().astimezone(SHANGHAI).date()


def forms_dir():
    return Path(engine().forms_dir)


def _check_name(name):
    if not name or '/' in name or '\\' in name or name.startswith('.'):
        raise Conflict(f'表单文件名无效：{name} (invalid form file name)', code='form_missing')


def load(name, definition=None):
    """A form's JSON: the copy deployed with `definition` (running cases keep their forms), else
    the file in forms/ (versions deployed before forms were kept with them), cached."""
    _check_name(name)
    if definition is not None:
        key = ('form', definition.key, definition.sha256, name)    # the digest covers the forms
        with _lock:
            if key in _cache:
                return _cache[key]
        text = (definition.forms or {}).get(name)
        if text is not None:
            try:
                content = json.loads(text)
            except ValueError as exc:
                raise Conflict(f'表单文件无法读取：{name} (form unreadable: {exc})', code='form_missing') from None
            with _lock:
                _cache[key] = content
            return content
    return _load_file(name)


def has(name, definition=None):
    """Whether the form exists for this version (or in forms/)."""
    if definition is not None and name in (definition.forms or {}):
        return True
    return (forms_dir() / name).is_file()


def _load_file(name):
    path = forms_dir() / name
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        raise Conflict(f'表单文件不存在：{name} (form file missing)', code='form_missing') from None
    with _lock:
        hit = _cache.get(path)
        if hit and hit[0] == mtime:
            return hit[1]
    try:
        content = json.loads(path.read_text(encoding='utf-8'))
    except (OSError, ValueError) as exc:
        raise Conflict(f'表单文件无法读取：{name} (form file unreadable: {exc})', code='form_missing') from None
    with _lock:
        _cache[path] = (mtime, content)
    return content


# The forms come in the same statement (a deferred column would cost a second round trip). Built
# once: a request only binds the case's id.
_DEFINITION_OF = (select(ProcessDefinition).options(undefer(ProcessDefinition.forms))
                  .join(ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
                  .where(ProcessInstance.id == bindparam('instance_id')))


def definition_of(task):
    """The definition version of a task's case (tasks do not load their case: lazy='raise')."""
    return db.session.scalar(_DEFINITION_OF, {'instance_id': task.instance_id})


def task_form(task, definition=None):
    """{key, schema, ui_schema} of a task row from its case's version, or None when it has no form.
    `definition`: that version when the caller read it with the task (services/cases.py)."""
    if not task.form:
        return None
    definition = definition if definition is not None else definition_of(task)
    _versions()[definition.id] = (definition.key, definition.sha256)
    return {'key': task.form, 'schema': load(task.form, definition),
            'ui_schema': load(task.ui_form, definition) if task.ui_form else None}


def task_form_of_version(task, definition_id):
    """task_form for a task whose case's definition version is known by id only (the write path reads
    the case, not its definition): a version's key and digest never change, so each process keeps
    them by id (per app: ids repeat across databases) and a form already cached by digest costs no
    statement; otherwise the version is read once (definition_of)."""
    if not task.form:
        return None
    identity = _versions().get(definition_id)
    if identity is not None:
        names = (task.form, task.ui_form) if task.ui_form else (task.form,)
        with _lock:
            found = [_cache.get(('form', *identity, name)) for name in names]
        if all(f is not None for f in found):
            return {'key': task.form, 'schema': found[0], 'ui_schema': found[1] if task.ui_form else None}
    return task_form(task, definition_of(task))


def _versions():
    """{definition id: (key, digest)} of the versions this process has read forms of, per app."""
    return current_app.extensions.setdefault('jiuzhu.form_versions', {})


def start_form_name(definition):
    """The `startForm` property of the definition's process, if it declares one."""
    # By content, not by row id: ids repeat across databases (tests, several districts).
    key = ('start', definition.key, definition.sha256)
    with _lock:
        if key in _cache:
            return _cache[key]
    root = etree.fromstring(definition.source.encode('utf-8'), parser=etree.XMLParser(resolve_entities=False))
    ns = {'bpmn': 'http://www.omg.org/spec/BPMN/20100524/MODEL',
          'spiffworkflow': 'http://spiffworkflow.org/bpmn/schema/1.0/core'}
    process = f'./bpmn:process[@id="{definition.key}"]'
    props = 'bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property'
    # The process property wins; a form on the (none) start event is the SpiffArena way to say the same.
    values = (root.xpath(f'{process}/{props}[@name="startForm"]/@value', namespaces=ns)
              or root.xpath(f'{process}/bpmn:startEvent/{props}[@name="formJsonSchemaFilename"]/@value',
                            namespaces=ns))
    name = values[0].strip() if values and values[0].strip() else None
    with _lock:
        _cache[key] = name
    return name


# ------------------------------------------------------------------ validation

_TYPES_ZH = {'string': '文本', 'integer': '整数', 'number': '数字', 'boolean': '是/否', 'object': '对象',
             'array': '列表', 'null': '空值'}
_FORMATS_ZH = {'date': '日期格式应为 YYYY-MM-DD，且是真实的日期',
               'cn-resident-id': '身份证号码无效（校验位或出生日期错误）',
               'date-time': '时间格式应为 ISO 8601（含时区）',
               'email': '电子邮箱格式不正确'}


def _path(parts):
    return '.'.join(str(p) for p in parts) or '$'


def _message(error):
    v, value = error.validator, error.validator_value
    if isinstance(error.schema, dict) and isinstance(error.schema.get('x-message'), str):
        return error.schema['x-message']    # the form's own words for a rule (a choice the case does not allow)
    if v == 'type':
        kinds = value if isinstance(value, list) else [value]
        return '应为' + '或'.join(_TYPES_ZH.get(k, k) for k in kinds)
    if v == 'enum':
        return '应为以下之一：' + '、'.join(json.dumps(x, ensure_ascii=False) for x in value)
    if v in ('oneOf', 'anyOf') and all(isinstance(o, dict) and 'const' in o for o in value):
        return '应为以下之一：' + '、'.join(
            f"{json.dumps(o['const'], ensure_ascii=False)}（{o.get('title', '')}）" if o.get('title')
            else json.dumps(o['const'], ensure_ascii=False) for o in value)
    if v == 'const':
        return f'应为 {json.dumps(value, ensure_ascii=False)}'
    if v == 'format':
        return _FORMATS_ZH.get(value, f'格式不正确（{value}）')
    if v == 'minimum':
        return f'不能小于 {value}'
    if v == 'maximum':
        return f'不能大于 {value}'
    if v == 'exclusiveMinimum':
        return f'必须大于 {value}'
    if v == 'exclusiveMaximum':
        return f'必须小于 {value}'
    if v == 'multipleOf':
        return f'应为 {value} 的整数倍'
    if v == 'minLength':
        return '必填' if value == 1 else f'至少 {value} 个字'
    if v == 'maxLength':
        return f'最多 {value} 个字'
    if v == 'pattern':
        return '格式不正确'
    if v == 'minItems':
        return f'至少 {value} 项'
    if v == 'maxItems':
        return f'最多 {value} 项'
    if v == 'uniqueItems':
        return '不能有重复项'
    return f'不符合要求（{error.message}）'


_validators = {}


def _validator(schema):
    """The validator of a schema: made once per form as cached by `load` (the same dict each time).
    By id: the validator holds its schema, so the id stays that schema's while it is kept."""
    validator = _validators.get(id(schema))
    if validator is not None and validator.schema is schema:
        return validator
    validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    with _lock:
        if len(_validators) > 1000:       # forms are few; schemas made per call must not grow it
            _validators.clear()
        _validators[id(schema)] = validator
    return validator


def field_errors(schema, data):
    """{path: Chinese message} for every problem of `data` against `schema` (empty when valid)."""
    validator = _validator(schema)
    errors = {}
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        parts = list(error.absolute_path)
        if error.validator == 'required':
            for name in error.validator_value:
                if isinstance(error.instance, dict) and name not in error.instance:
                    errors.setdefault(_path(parts + [name]), '必填')
            continue
        if error.validator == 'additionalProperties' and isinstance(error.instance, dict):
            allowed = set(error.schema.get('properties', {}))
            for name in error.instance:
                if name not in allowed:
                    errors.setdefault(_path(parts + [name]), '表单中没有这个字段')
            continue
        errors.setdefault(_path(parts), _message(error))
    return errors


def _read_only(schema, prefix=''):
    """[(path, source path)] of the `readOnly` fields of a form outside lists (`x-from` or the same path)."""
    out = []
    for name, sub in (schema.get('properties') or {}).items():
        if not isinstance(sub, dict):
            continue
        path = f'{prefix}{name}'
        if sub.get('readOnly'):
            out.append((path, sub.get('x-from') or path))
        elif sub.get('type') == 'object':
            out.extend(_read_only(sub, path + '.'))
    return out


def carry_case_values(schema, data, case_data):
    """`data` with every read-only field the case holds a value for set from the case (`case_data()`,
    read only when the form has such fields): what an API client posts for them is ignored, as the
    page ignores it, so a form's rule on a carried value (e.g. whether a household is registered)
    cannot be talked around."""
    fields = _read_only(schema)
    if not fields or not isinstance(data, dict):
        return data
    held = case_data()
    for path, source in fields:
        value = at(held, source)
        if value is None:
            continue
        *parents, last = path.split('.')
        target = data
        for part in parents:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                break
        else:
            target[last] = value
    return data


def validate(schema, data, what='表单'):
    """Raise Invalid with {path: message} details unless `data` fits the form `schema`.

    Fields the form does not declare are refused too: a form must not overwrite case data
    it does not show (the township, the close-relative declaration, a verification result).
    """
    if not isinstance(data, dict):
        raise Invalid(f'{what}数据应为对象 (data must be an object)', details={'$': '应为对象'},
                      code='validation_error')
    errors = field_errors(schema, data)
    declared = schema.get('properties')
    if isinstance(declared, dict) and schema.get('additionalProperties') is not True:
        for name in data:
            if name not in declared:
                errors.setdefault(name, '表单中没有这个字段')
    if errors:
        raise Invalid(f'{what}填写有误，请检查标出的字段 (form data invalid)', details=errors, code='validation_error')
    return data
