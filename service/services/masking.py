"""The one place that masks personal numbers for lists, logs and exports (身份证号、手机号脱敏).

By field name (`id_number`, `phone`…) and by content: an 18-character resident ID number, a
mainland mobile number or a bank card number typed into any free text (a note, a reason, an error
message, a log line) is masked too. What a person must see in full (the task they work on, the
applicant's own notice) is simply not passed through here.
"""
import logging
import re

_PHONE_KEYS = ('phone', 'mobile', 'telephone', 'tel')

# Not inside a longer run of digits or letters: an 18-character ID (17 digits, then a digit or X),
# a mobile number (1[3-9] + 9 digits, optionally +86/86 before it), a 16-19 digit bank card number.
_ID_IN_TEXT = re.compile(r'(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[0-9Xx])(?![0-9A-Za-z])')
_MOBILE_IN_TEXT = re.compile(r'(?<![0-9A-Za-z+])((?:\+?86[- ]?)?1[3-9]\d)(\d{4})(\d{4})(?![0-9A-Za-z])')
_CARD_IN_TEXT = re.compile(r'(?<![0-9A-Za-z])(\d{12,15})(\d{4})(?![0-9A-Za-z])')
# Cheap pre-check: text without 11 digits in a row has nothing to mask (most strings).
_DIGITS = re.compile(r'\d{11}')


def mask_id_number(number):
    number = str(number or '')
    if len(number) > 10:
        return number[:6] + '*' * (len(number) - 10) + number[-4:]
    return '*' * len(number)


def mask_phone(phone):
    phone = str(phone or '')
    digits = re.sub(r'\D', '', phone)
    if len(digits) >= 7:
        return digits[:3] + '*' * (len(digits) - 7) + digits[-4:]
    return '*' * len(phone)


def mask_text(text):
    """`text` with every ID, mobile and bank card number in it masked; other text unchanged."""
    if not isinstance(text, str) or not _DIGITS.search(text):
        return text
    text = _ID_IN_TEXT.sub(lambda m: m.group(1) + '*' * 8 + m.group(3), text)
    text = _CARD_IN_TEXT.sub(lambda m: '*' * len(m.group(1)) + m.group(2), text)
    return _MOBILE_IN_TEXT.sub(lambda m: m.group(1) + '****' + m.group(3), text)


def _is_id_key(key):
    return key == 'id_number' or key.endswith('_id_number') or key in ('id_card', 'ric')


def _is_phone_key(key):
    return key in _PHONE_KEYS or key.endswith('_phone')


def mask_data(value):
    """A copy of `value` with every ID and phone number masked, at any depth: by field name, and
    in any string by content."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if isinstance(item, (str, int)) and not isinstance(item, bool) and isinstance(key, str):
                if _is_id_key(key):
                    out[key] = mask_id_number(item)
                    continue
                if _is_phone_key(key):
                    out[key] = mask_phone(item)
                    continue
            out[mask_text(key)] = mask_data(item)
        return out
    if isinstance(value, (list, tuple)):
        return [mask_data(item) for item in value]
    if isinstance(value, str):
        return mask_text(value)
    return value


def mask_strings(value):
    """A copy of `value` with the numbers in its strings masked, by content only (error details,
    whose keys name fields, not values)."""
    if isinstance(value, dict):
        return {key: mask_strings(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_strings(item) for item in value]
    return mask_text(value)


# ------------------------------------------------------------------ logs

class MaskingFilter(logging.Filter):
    """Masks the numbers in a log record's message and traceback before any handler formats it."""

    def filter(self, record):
        try:
            message = record.getMessage()
        except Exception:   # a bad format string: leave it to the handler to report
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        return True


# A logger's filter sees only the records logged on that very logger, not its children's: every
# logger of the app is named here, and the servers' that echo request lines (query strings).
LOGGERS = ('jiuzhu', 'jiuzhu.api', 'jiuzhu.calendar', 'jiuzhu.demo', 'jiuzhu.sandbox', 'jiuzhu.scheduler',
           'jiuzhu.throttle', 'jiuzhu.web', 'jiuzhu.write', 'service', 'werkzeug', 'gunicorn.error',
           'gunicorn.access', 'apscheduler', 'apscheduler.scheduler', 'apscheduler.executors.default',
           'flask.app')
_FILTER = MaskingFilter()


def install_log_masking(names=LOGGERS):
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
