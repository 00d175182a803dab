"""The lists' .xlsx files (service/web/export.py), read back with openpyxl as a spreadsheet program would."""
import io

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
