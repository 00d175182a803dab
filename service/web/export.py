"""Lists as files: Excel (.xlsx, XlsxWriter) and CSV, Chinese headers, dates as dates.

A column is (header, width in characters, kind): 'text', 'int' or 'time' (an aware datetime,
written as Beijing time; Excel has no time zones). CSV is UTF-8 with a byte-order mark, so Excel
opens the Chinese text as it is; its times are written as 2026-09-28 09:00, and text that starts
like a formula (=, +, -, @) behind a single quote, so that a spreadsheet shows it instead of running it.
A list cut at MAX_ROWS says so in its last line, in both formats.
"""
import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote

import xlsxwriter
from flask import Response

from . import fmt

XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
TIME_FORMAT = 'yyyy-mm-dd hh:mm'
DATE_FORMAT = 'yyyy-mm-dd'
# The control characters XML 1.0 cannot carry (tab, line feed and carriage return it can).
ILLEGAL_XML = re.compile(r'[\x00-\x08\x0b\x0c\x0e-\x1f]')


def _local(value):
    return fmt.shanghai(value).replace(tzinfo=None) if isinstance(value, datetime) else value


def _cut_note(limit):
    return f'（只导出了前 {limit:,} 行，请缩小筛选范围后分批导出）'


def xlsx_bytes(title, columns, rows, cut=False, limit=0):
    # XlsxWriter in constant-memory mode: each row goes to a temporary file as it is written, so
    # 50,000 rows take a few MB; about twice as fast as openpyxl's write-only mode at that size
    # (tests/bench/bench_exports.py). Cells are written by their value's type with write_string /
    # write_number / write_datetime, never write(): text stays text, even "=HYPERLINK(…)".
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {'constant_memory': True, 'nan_inf_to_errors': True})
    sheet = book.add_worksheet(_sheet_name(title))
    formats = {'head': book.add_format({'bold': True, 'align': 'center'}),
               datetime: book.add_format({'num_format': TIME_FORMAT}),
               date: book.add_format({'num_format': DATE_FORMAT})}
    for number, (header, width, _) in enumerate(columns):
        sheet.set_column(number, number, width)
        sheet.write_string(0, number, header, formats['head'])
    sheet.freeze_panes(1, 0)
    line = 0
    for line, row in enumerate(rows, start=1):
        for number, value in enumerate(row):
            if value is not None and value != '':
                _write(sheet, formats, line, number, value)
    if cut:
        sheet.write_string(line + 1, 0, _cut_note(limit))
    book.close()
    return out.getvalue()


def _write(sheet, formats, line, number, value):
    if isinstance(value, str):
        # Characters XML cannot carry are dropped (a control character in a name once failed the export).
        sheet.write_string(line, number, ILLEGAL_XML.sub('', value))
    elif isinstance(value, datetime):
        sheet.write_datetime(line, number, _local(value), formats[datetime])
    elif isinstance(value, date):
        sheet.write_datetime(line, number, value, formats[date])
    elif isinstance(value, bool):
        sheet.write_boolean(line, number, value)
    elif isinstance(value, (int, float, Decimal)):
        sheet.write_number(line, number, value)
    else:
        sheet.write_string(line, number, ILLEGAL_XML.sub('', str(value)))


def _sheet_name(title):
    """Excel's rules for a sheet's name: at most 31 characters, none of []:*?/\\, no quote at either end."""
    return re.sub(r"[\[\]:*?/\\]", '', title)[:31].strip("'") or 'Sheet1'


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
