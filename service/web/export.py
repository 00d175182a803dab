"""Lists as files: Excel (.xlsx, openpyxl) and CSV, Chinese headers, dates as dates.

A column is (header, width in characters, kind): 'text', 'int' or 'time' (an aware datetime,
written as Beijing time; Excel has no time zones). CSV is UTF-8 with a byte-order mark, so Excel
opens the Chinese text as it is; its times are written as 2026-09-28 09:00, and text that starts
like a formula (=, +, -, @) behind a single quote, so that a spreadsheet shows it instead of running it.
A list cut at MAX_ROWS says so in its last line, in both formats.
"""
import csv
import io
import re
from datetime import datetime
from urllib.parse import quote

from flask import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from . import fmt

XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
TIME_FORMAT = 'yyyy-mm-dd hh:mm'


def _local(value):
    return fmt.shanghai(value).replace(tzinfo=None) if isinstance(value, datetime) else value


def _cut_note(limit):
    return f'（只导出了前 {limit:,} 行，请缩小筛选范围后分批导出）'


def xlsx_bytes(title, columns, rows, cut=False, limit=0):
    # Write-only: rows stream into the file as they come (50,000 rows in a few MB of memory, and no
    # per-row lookups of the sheet's size, which made the ordinary mode quadratic).
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    for number, (_, width, _) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = width
    sheet.freeze_panes = 'A2'
    sheet.append([_cell(sheet, header, bold=True) for header, _, _ in columns])
    kinds = [kind for _, _, kind in columns]
    for row in rows:
        sheet.append([_cell(sheet, _local(v), time=(kind == 'time')) if v not in (None, '') else None
                      for v, kind in zip(row, kinds)])
    if cut:
        sheet.append([_cut_note(limit)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(sheet, value, bold=False, time=False):
    if isinstance(value, str):
        # Characters XML cannot carry are dropped (openpyxl refuses them: the whole export failed), and
        # a name like "=HYPERLINK(…)" stays text: openpyxl takes a leading "=" for a formula.
        value = ILLEGAL_CHARACTERS_RE.sub('', value)
        if value.startswith('='):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = 's'
            return cell
    if not (bold or time):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    if bold:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal='center')
    if time:
        cell.number_format = TIME_FORMAT
    return cell


# Text a spreadsheet program takes for a formula (CSV injection, OWASP): it starts with one of these.
FORMULA_START = ('=', '+', '-', '@', '\t', '\r')
# ... unless it is a plain number ("-120.00", a roster's amount), which no formula can hide in.
PLAIN_NUMBER = re.compile(r'[+-]?\d[\d,]*(\.\d+)?')


def _csv_text(value):
    """A text cell as a spreadsheet shows it: formula-like text behind a single quote, as OWASP advises."""
    if value.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _csv_cell(value):
    if isinstance(value, str):
        return _csv_text(value)
    if isinstance(value, datetime):
        return fmt.when(value)
    return '' if value is None else value


def csv_bytes(columns, rows, cut=False, limit=0):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\r\n')
    writer.writerow([header for header, _, _ in columns])
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    if cut:
        writer.writerow([_cut_note(limit)])
    return ('\ufeff' + out.getvalue()).encode('utf-8')


def response(file_format, title, columns, rows, cut=False, limit=0):
    """The download: `title`-date.xlsx or .csv (the file name in UTF-8, RFC 6266)."""
    from ..services.context import now
    name = f'{title}-{fmt.shanghai(now()).strftime("%Y%m%d-%H%M")}.{file_format}'
    if file_format == 'xlsx':
        body, mimetype = xlsx_bytes(title, columns, rows, cut, limit), XLSX
    else:
        body, mimetype = csv_bytes(columns, rows, cut, limit), 'text/csv; charset=utf-8'
    ascii_name = f'export.{file_format}'
    return Response(body, mimetype=mimetype, headers={
        'Content-Disposition': f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"})
