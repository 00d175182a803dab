"""The one place that masks personal numbers for lists, logs and exports (身份证号、手机号脱敏)."""
import re

_PHONE_KEYS = ('phone', 'mobile', 'telephone', 'tel')


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


def _is_id_key(key):
    return key == 'id_number' or key.endswith('_id_number') or key in ('id_card', 'ric')


def _is_phone_key(key):
    return key in _PHONE_KEYS or key.endswith('_phone')


def mask_data(value):
    """A copy of `value` with every ID and phone number masked, at any depth."""
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
            out[key] = mask_data(item)
        return out
    if isinstance(value, list):
        return [mask_data(item) for item in value]
    return value
