"""The household archive (一户一档) as one PDF and as a zip of the originals.

WeasyPrint lays the archive out from HTML: the archive's own pages (cover, contents, forms,
amounts, audit trail) and each notice as its own printable page, in the archive's order, joined
into one file. Nothing is fetched while rendering (no network, no files but the notice stylesheet):
a value typed into a form cannot make the server load a URL. Chinese text needs a CJK font on the
machine (fonts-wqy-microhei; .ci/run and deploy/ install it).
"""
import io
import json
import zipfile
from pathlib import Path

from flask import render_template

STATIC = Path(__file__).resolve().parent / 'static'
# The notices are A4 sheets with their own margins on screen; in the archive the page is the sheet.
NOTICE_IN_ARCHIVE = """
html { background: #fff; }
.sheet { width: auto; min-height: 0; margin: 0; padding: 0; box-shadow: none; }
.toolbar, .draft-note, script { display: none; }
body { font-family: "FangSong", "WenQuanYi Micro Hei", "Noto Serif CJK SC", serif; }
"""


def _weasy():
    import weasyprint   # imported on use: the pages that never print need not load Pango
    from weasyprint.urls import URLFetcher

    class NoFetch(URLFetcher):
        def fetch(self, url, headers=None):
            raise ValueError(f'resources are not fetched while rendering an archive: {url}')
    return weasyprint, NoFetch()


def _render(weasyprint, fetcher, html, stylesheets=(), fonts=None):
    return weasyprint.HTML(string=html, url_fetcher=fetcher).render(stylesheets=list(stylesheets), font_config=fonts)


def build_pdf(archive, notice_html):
    """One PDF: the archive's documents in order; `notice_html(doc)` gives a notice's printable page."""
    weasyprint, fetcher = _weasy()
    from weasyprint.text.fonts import FontConfiguration
    fonts = FontConfiguration()   # one for all parts: the fonts are looked up and loaded once
    notice_css = [weasyprint.CSS(filename=str(STATIC / 'notice.css'), url_fetcher=fetcher, font_config=fonts),
                  weasyprint.CSS(string=NOTICE_IN_ARCHIVE, font_config=fonts)]
    rendered, pending = [], []

    def flush(first=False):
        if pending or first:
            html = render_template('web/household_archive_print.html', archive=archive, docs=list(pending),
                                   cover=first)
            rendered.append(_render(weasyprint, fetcher, html, fonts=fonts))
            pending.clear()
    flush(first=True)
    for doc in archive['documents']:
        if doc['kind'] == 'notice':
            flush()
            rendered.append(_render(weasyprint, fetcher, notice_html(doc), notice_css, fonts))
        else:
            pending.append(doc)
    flush()
    pages = [page for document in rendered for page in document.pages]
    return rendered[0].copy(pages).write_pdf()


def build_zip(archive, originals):
    """The originals (attachments as uploaded) and a manifest with their SHA-256: the PDF is its own download."""
    buffer = io.BytesIO()
    manifest = []
    with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_DEFLATED) as out:
        for doc, data in originals:
            name = f'原件/{doc["number"]:03d}-案件{doc["case"]["id"]}-{Path(doc["title"]).name}'
            out.writestr(name, data)
            manifest.append({'number': doc['number'], 'file': name, 'case': doc['case']['id'],
                             'content_type': doc['content_type'], 'size': doc['size'], 'sha256': doc['sha256']})
        out.writestr('清单.json', json.dumps({'household_id': archive['household'].id, 'originals': manifest},
                                             ensure_ascii=False, indent=2))
    return buffer.getvalue()
