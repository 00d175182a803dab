"""The lists' .xlsx files (service/web/export.py), read back with openpyxl as a spreadsheet program would."""
import io
from datetime import date, datetime, timezone
from decimal import Decimal

from openpyxl import load_workbook

from service.web import export

COLUMNS = [('案件', 18, 'text'), ('件数', 8, 'int'), ('发起时间', 18, 'time'), ('备注', 12, 'text')]


def _sheet(rows, cut=False):
    return load_workbook(io.BytesIO(export.xlsx_bytes('超期案件', COLUMNS, rows, cut, 2))).active


def test_text_stays_text_however_it_looks():
    """A name like =HYPERLINK(…) is shown, never run as a formula; characters XML cannot carry are
    dropped instead of failing the whole export."""
    sheet = _sheet([['=1+1', None, None, '<a & b>\x07 '], ['+86', None, None, '  前后空格  ']])
    assert sheet['A2'].value == '=1+1' and sheet['A2'].data_type == 's'
    assert sheet['D2'].value == '<a & b> ' and sheet['A3'].value == '+86'
    assert sheet['D3'].value == '  前后空格  '


def test_a_cut_list_says_so_in_its_last_row():
    rows = list(_sheet([['a', 1, None, None], ['b', 2, None, None]], cut=True).values)
    assert rows[-1][0].startswith('（只导出了前 2 行')


def test_layout_and_kinds_of_cells():
    """Bold headers over a frozen first row, the columns' widths, times and days as dates (Beijing
    time), numbers as numbers."""
    at = datetime(2026, 9, 28, 1, 30, tzinfo=timezone.utc)
    book = load_workbook(io.BytesIO(export.xlsx_bytes('超期案件', COLUMNS, [
        ['a', -3, at, date(2026, 10, 1)], ['b', Decimal('12.50'), None, 2.5]])))
    sheet = book.active
    assert sheet.title == '超期案件' and sheet.freeze_panes == 'A2'
    assert [c.value for c in sheet[1]] == [h for h, _, _ in COLUMNS] and sheet['A1'].font.b
    # The width as Excel shows it (XlsxWriter stores it with the cell's padding: 18.71 for 18).
    widths = [sheet.column_dimensions[c].width for c in 'ABCD']
    assert all(w <= got <= w + 1 for got, (_, w, _) in zip(widths, COLUMNS)), widths
    assert sheet['A2'].value == 'a' and sheet['B2'].value == -3 and sheet['B3'].value == 12.5
    assert sheet['C2'].value == datetime(2026, 9, 28, 9, 30) and sheet['C2'].number_format == 'yyyy-mm-dd hh:mm'
    assert sheet['D2'].value == datetime(2026, 10, 1) and sheet['D3'].value == 2.5
    assert sheet['C3'].value is None
