"""The rules a case's diagram declares, for the services: who records a message, what its payload must
hold, on which grounds and how far a time limit may be extended (engine/rules.py reads them).

Nothing here knows a message or a timer by name: a diagram's `bpmn:message` properties and its
boundary timers' `extensionForm` say it all, and each case follows the version it runs on.
"""
from sqlalchemy import select

from ..errors import Conflict, Invalid
from ..extensions import db
from ..models import ProcessDefinition
from . import forms
from .context import engine

# A message whose diagram names no `senders`: the township's staff and the county's supervisors.
# Not a procedure rule — what a diagram from elsewhere gets until its designer says who records it.
DEFAULT_SENDERS = frozenset({'township_caseworker', 'township_leader', 'county_supervisor'})


def _message(definition, name):
    return engine().rules(definition)['messages'].get(name) or {}


def message_senders(definition, name):
    return frozenset(_message(definition, name).get('senders') or DEFAULT_SENDERS)


def message_form(definition, name):
    """{'schema', 'ui_schema'} of the message's payload form, or None (then any object is taken)."""
    rule = _message(definition, name)
    if not rule.get('form'):
        return None
    ui_name = rule.get('ui_form')
    if ui_name is None and rule['form'].endswith('.schema.json'):
        guess = rule['form'][:-len('.schema.json')] + '.uischema.json'
        ui_name = guess if forms.has(guess, definition) else None
    return {'schema': forms.load(rule['form'], definition),
            'ui_schema': forms.load(ui_name, definition) if ui_name else None}


def check_payload(definition, name, payload):
    """422 with field errors unless `payload` fits the message's form."""
    form = message_form(definition, name)
    if not isinstance(payload, dict):
        raise Invalid('消息内容应为对象 (payload must be an object)', details={'payload': '应为对象'},
                      code='validation_error')
    if form is not None:
        forms.validate(form['schema'], payload, what='消息')


def data_labels(definitions):
    """[{'properties': {data name: payload schema}}] so the case data can name the payload fields."""
    out = []
    for definition in definitions:
        for name, rule in engine().rules(definition)['messages'].items():
            if rule.get('form') and rule.get('variable'):
                out.append({'properties': {rule['variable']: forms.load(rule['form'], definition)}})
    return out


def answer_messages(role):
    """Names of messages that answer a step of a case (`answer` = true: someone owes them) which
    `role` records, over the newest version of each process."""
    names = set()
    for definition in latest_definitions():
        for name, rule in engine().rules(definition)['messages'].items():
            if rule.get('answer') and role in (rule.get('senders') or DEFAULT_SENDERS):
                names.add(name)
    return sorted(names)


def latest_definitions():
    rows = db.session.scalars(select(ProcessDefinition).order_by(ProcessDefinition.key,
                                                                 ProcessDefinition.version)).all()
    return list({row.key: row for row in rows}.values())


# ------------------------------------------------------------------ extensions of time limits

def extension_form(definition, timer):
    name = engine().rules(definition)['extensions'].get(timer)
    return forms.load(name, definition) if name else None


def extension_choices(schema):
    """({code: wording} of the grounds, the longest total in working days) an extension form allows."""
    reason = (schema.get('properties') or {}).get('reason') or {}
    grounds = {c['const']: c.get('title', c['const']) for c in reason.get('oneOf', []) if 'const' in c}
    grounds.update({v: v for v in reason.get('enum', []) if v not in grounds})
    days = (schema.get('properties') or {}).get('working_days') or {}
    return grounds, days.get('maximum')


def check_extension(definition, timer, working_days, reason, note):
    """The ground's code and wording of a valid extension request; 409 when the timer's diagram allows
    none, 422 with field errors when the request does not fit the timer's extension form."""
    schema = extension_form(definition, timer)
    if schema is None and timer not in engine().rules(definition)['timers']:
        raise Conflict(f'案件没有正在计时的期限 {timer} (no waiting timer with this id)', code='timer_not_waiting')
    if schema is None:
        raise Conflict(f'流程图没有为期限 {timer} 规定延期情形，不能延长 (this time limit has no extensionForm)',
                       code='not_extendable')
    grounds, _ = extension_choices(schema)
    # A caseworker may name the ground by its wording (人户分离) as well as by its code.
    code = next((c for c, zh in grounds.items() if reason in (c, zh)), reason)
    request = {'reason': code, 'working_days': working_days}
    if note is not None:
        request['note'] = note
    try:
        forms.validate(schema, request, what='延期申请')
    except Invalid as exc:
        # The codes callers know: a ground outside the form's list, a total beyond its maximum.
        details = exc.details or {}
        if 'reason' in details:
            exc.code = 'invalid_extension_ground'
        elif 'working_days' in details and isinstance(working_days, int) and not isinstance(working_days, bool) \
                and working_days > 1:
            exc.code = 'extension_too_long'
        raise
    return code, grounds.get(code, code)
