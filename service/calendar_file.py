"""A district's own calendar adjustments file (JIUZHU_HOLIDAYS): one day per line, holiday or
workday, read into {date: is_working_day} for service/calendar.py's WorkingCalendar."""
import re
from datetime import date


class CalendarFileError(ValueError):
    """A district adjustments file that cannot be used; names the file and the line."""

    def __init__(self, path, lineno, message, text=None):
        self.path = str(path)
        self.lineno = lineno
        self.text = text
        where = f'{self.path}:{lineno}' if lineno else self.path
        detail = f'{where}: {message}'
        if text is not None:
            detail += f': {text!r}'
        super().__init__(detail)


_LINE = re.compile(r'^(\d{4})[-/](\d{1,2})[-/](\d{1,2})\s+(\S+)$')
_KINDS = {
    'holiday': False,
    '休息': False,
    '放假': False,
    'workday': True,
    '上班': True,
}
_FORMAT_HINT = 'expected "YYYY-MM-DD holiday" or "YYYY-MM-DD workday"'


def parse_adjustments(text, path='<string>'):
    """Parse an adjustments file's text into {date: is_working_day}.

    One day per line: ``2026-10-09 holiday`` or ``2026-10-11 workday`` (also
    ``休息``/``放假`` and ``上班``); ``#`` starts a comment; blank lines are ignored.
    """
    result = {}
    first_seen = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        # Clerks type in Chinese input mode, so accept the full-width '#' as well.
        body = re.split(r'[#＃]', raw, maxsplit=1)[0]
        body = body.replace('\u3000', ' ').strip()
        if not body:
            continue
        match = _LINE.match(body)
        if not match:
            raise CalendarFileError(path, lineno, _FORMAT_HINT, raw.rstrip())
        year, month, day_, kind = match.groups()
        try:
            day = date(int(year), int(month), int(day_))
        except ValueError:
            raise CalendarFileError(path, lineno, 'no such date', raw.rstrip()) from None
        working = _KINDS.get(kind.lower())
        if working is None:
            raise CalendarFileError(
                path, lineno, f'unknown kind {kind!r}, use "holiday" or "workday"', raw.rstrip()
            )
        if day in result and result[day] != working:
            raise CalendarFileError(
                path, lineno, f'contradicts line {first_seen[day]} for {day.isoformat()}', raw.rstrip()
            )
        result[day] = working
        first_seen.setdefault(day, lineno)
    return result


def read_adjustments(path):
    """{date: is_working_day} of the adjustments file at `path` (UTF-8, with or without BOM)."""
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
    except OSError as exc:
        raise CalendarFileError(path, None, f'cannot read the holidays file ({exc.strerror or exc})') from exc
    try:
        # utf-8-sig: Notepad on Windows prepends a byte-order mark.
        text = data.decode('utf-8-sig')
    except UnicodeDecodeError as exc:
        lineno = data[: exc.start].count(b'\n') + 1
        raise CalendarFileError(path, lineno, 'not UTF-8 text; save the file as UTF-8') from None
    return parse_adjustments(text, path=str(path))
