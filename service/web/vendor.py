"""bpmn-js from the repository's node_modules (installed by `npm ci`): no CDN, nothing fetched at run time."""
from pathlib import Path

from flask import send_from_directory

from ..config import ROOT
from .core import bp, error_page

BPMN_JS_DIST = ROOT / 'node_modules' / 'bpmn-js' / 'dist'


def bpmn_js_installed():
    return (BPMN_JS_DIST / 'bpmn-navigated-viewer.production.min.js').is_file()


@bp.get('/vendor/bpmn-js/<path:filename>')
def vendor(filename):
    if not bpmn_js_installed():
        return error_page(404, '流程图组件 bpmn-js 未安装：请在项目根目录运行 npm ci（make run / make test 会自动安装）。',
                          title='缺少流程图组件')
    if Path(filename).suffix not in ('.js', '.css', '.woff', '.woff2', '.ttf', '.eot', '.svg'):
        return error_page(404)
    # send_from_directory refuses paths that leave the directory.
    return send_from_directory(BPMN_JS_DIST, filename, max_age=3600)
