"""The browser modeler page's own Content-Security-Policy (web/security.py MODELER_CSP): the site's
policy plus the hashes of dmn-js's style attributes, on that page only. The browser side (no refusal
in the console when a decision table opens) is tests/browser/test_browser_modeler.py."""
import re

import pytest

from service.services import repository
from service.web.security import CSP, DMN_JS_STYLE_ATTRIBUTES, MODELER_CSP, style_hash

from .security_helpers import ROOT, demo_app, signed_in

DMN_BUNDLE = ROOT / 'node_modules' / 'dmn-js' / 'dist' / 'dmn-modeler.production.min.js'


def test_the_allowed_styles_are_those_of_the_installed_dmn_js():
    if not DMN_BUNDLE.is_file():
        pytest.skip('dmn-js is not installed (npm ci)')
    bundle = DMN_BUNDLE.read_text(encoding='utf-8')
    for value in DMN_JS_STYLE_ATTRIBUTES:
        # Written whole (style="…") or joined from its parts (css(["a","b"]) joins with ';').
        whole = f'style="{value}' in bundle
        parts = all(f'"{part}"' in bundle for part in value.split(';'))
        assert whole or parts, f'dmn-js no longer writes style="{value}": update DMN_JS_STYLE_ATTRIBUTES'
    # Nothing else is loosened: scripts as before, no 'unsafe-inline' anywhere.
    assert "'unsafe-inline'" not in MODELER_CSP
    assert re.sub(r"style-src [^;]*", '', MODELER_CSP) == re.sub(r"style-src [^;]*", '', CSP)
    assert style_hash('vertical-align:middle') == "'sha256-CA/eh4+2R0J7cEQ14gBMtx834RIOjzMUqCM+evtrkp4='"


def test_only_the_modeler_page_carries_the_hashes(make_app, monkeypatch):
    app = demo_app(make_app, monkeypatch)
    designer = signed_in(app, 'sheji')
    with app.app_context():
        base = repository.latest('dibao_a').id
    assert designer.get(f'/designer/edit/{base}').headers['Content-Security-Policy'] == MODELER_CSP
    for url in ('/designer', f'/designer/definitions/{base}', '/tasks'):
        assert designer.get(url).headers['Content-Security-Policy'] == CSP, url
