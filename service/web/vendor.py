"""bpmn-js and dmn-js from the repository's node_modules (installed by `npm ci`): no CDN, nothing
fetched at run time. Their prebuilt browser bundles (`dist/`) are served as they are: no build step."""
from pathlib import Path

from flask import send_from_directory

from ..config import ROOT
from .core import bp, error_page

BPMN_JS_DIST = ROOT / 'node_modules' / 'bpmn-js' / 'dist'
DMN_JS_DIST = ROOT / 'node_modules' / 'dmn-js' / 'dist'
SUFFIXES = ('.js', '.css', '.woff', '.woff2', '.ttf', '.eot', '.svg')


def bpmn_js_installed():
    return (BPMN_JS_DIST / 'bpmn-navigated-viewer.production.min.js').is_file()


def _send(folder, filename, label):
    if not (folder / 'assets').is_dir():
        return error_page(404, f'流程图组件 {label} 未安装：请在项目根目录运行 npm ci（make run / make test 会自动安装）。',
                          title='缺少流程图组件')
    if Path(filename).suffix not in SUFFIXES:
        return error_page(404)
    # send_from_directory refuses paths that leave the directory.
    return send_from_directory(folder, filename, max_age=3600)


@bp.get('/vendor/bpmn-js/<path:filename>')
def vendor(filename):
    return _send(BPMN_JS_DIST, filename, 'bpmn-js')


@bp.get('/vendor/dmn-js/<path:filename>')
def vendor_dmn(filename):
    return _send(DMN_JS_DIST, filename, 'dmn-js')
