"""The forms of the BPMN messages a person records on the case page, and of time-limit extensions.

Both are the diagram's (processes/README.md, "Rules"): a `bpmn:message` names its payload form, a
boundary timer its `extensionForm`; the forms are those deployed with the case's version. The
page renders and parses them with the one form renderer; services/case_rules.py checks them.
"""
from ..services import case_rules


def message_forms(definition, names):
    """{name: {'schema', 'ui_schema'}} of the messages among `names` that have a payload form."""
    out = {}
    for name in names:
        form = case_rules.message_form(definition, name)
        if form is not None:
            out[name] = form
    return out


def extension_forms(definition, timers):
    """{timer id: ({code: wording}, longest total)} of the timers among `timers` that may be extended."""
    out = {}
    for timer in dict.fromkeys(timers):
        schema = case_rules.extension_form(definition, timer)
        if schema is not None:
            out[timer] = case_rules.extension_choices(schema)
    return out


def label_schemas(definitions=None):
    """Payload schemas under their data names, so the case data summary can name the payload fields."""
    return case_rules.data_labels(definitions if definitions is not None else case_rules.latest_definitions())
