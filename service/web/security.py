"""Cookie flags and security headers for every response (pages, API, notices), set in one place.

- The session cookie: HttpOnly, SameSite=Lax, Secure when the request came over HTTPS (directly,
  or per X-Forwarded-Proto from the JIUZHU_PROXIES trusted proxies) or always with
  JIUZHU_SECURE_COOKIES=1.
- Content-Security-Policy: scripts and styles only from this server's files: no inline script,
  no eval, no `on…=` handlers, no javascript: links (JSON data blocks `type="application/json"`
  are data, not scripts), no <style> blocks or style attributes either (the notices' A4 layout
  and the diagram's height live in static CSS). bpmn-js's viewer needs nothing more: it styles
  through CSS classes and the DOM's style properties, which the policy does not restrict, and
  tests/browser/test_browser_security.py watches the browser console for refusals.
  img-src allows data: for the SVG icons inside bpmn-js.css.
  The browser modeler page alone adds the hashes of dmn-js's few style attributes (MODELER_CSP).
- No framing (frame-ancestors + X-Frame-Options), nosniff, same-origin referrers.
- Cache-Control: no-store on everything but the static files: pages and API answers carry
  personal data, and a shared office computer's browser cache must not keep them.
"""
import base64
import hashlib

from flask import g, has_request_context, request
from flask.sessions import SecureCookieSessionInterface

from ..services import throttle

CSP = '; '.join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

# dmn-js (the decision tables of the browser modeler page) writes the bpmn.io logo, which its
# licence requires to stay visible, as HTML with these style attributes (and its "about" box, on a
# click of the logo). The site's policy refuses every style attribute, so the logo fell into the
# table's flow and Chrome logged a refusal each time a table opened. Only that page, and only these
# exact attribute values, are allowed ('unsafe-hashes' + their SHA-256): no 'unsafe-inline', the
# other pages keep CSP unchanged. tests/test_modeler_csp.py checks the values against the installed
# dmn-js bundle, so an upgrade that changes them fails a test instead of the browser console.
DMN_JS_STYLE_ATTRIBUTES = (
    'position: absolute; bottom: 15px; right: 15px; z-index: 100;',   # the logo link
    'vertical-align:middle',                                           # the logo's svg
    'z-index: 1001;position: fixed;top: 0;left: 0;right: 0;bottom: 0',  # the about box
    'width: 100%;height: 100%;background: rgba(40,40,40,0.2)',
    'position: absolute;left: 50%;top: 40%;transform: translate(-50%);width: 260px;padding: 10px;'
    'background: white;box-shadow: 0 1px 4px rgba(0,0,0,0.3);font-family: Helvetica, Arial, sans-serif;'
    'font-size: 14px;display: flex;line-height: 1.3',
    'margin: 15px 20px 15px 10px; align-self: center;',
)


def style_hash(value):
    return "'sha256-" + base64.b64encode(hashlib.sha256(value.encode('utf-8')).digest()).decode('ascii') + "'"


MODELER_CSP = CSP.replace("style-src 'self'", ' '.join(
    ["style-src 'self' 'unsafe-hashes'"] + [style_hash(v) for v in DMN_JS_STYLE_ATTRIBUTES]))

HEADERS = {
    'Content-Security-Policy': CSP,
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
    'Cross-Origin-Opener-Policy': 'same-origin',
}

# Files that hold no personal data and may be cached (the app's CSS/JS, the vendored bpmn-js).
CACHEABLE_ENDPOINTS = frozenset({'web.static', 'web.vendor', 'web.vendor_dmn'})


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, Secure whenever this request came over HTTPS.

    A request without the cookie (every API call: bearer tokens only) gets its empty session without
    building a signing serializer, and one that left it empty and untouched ends without working out
    the cookie's flags: Flask's own methods do both on every request, only to set nothing."""

    def open_session(self, app, request):
        # No Cookie header at all (an API client): nothing to parse into request.cookies (≈ 5 µs).
        if app.secret_key and ('HTTP_COOKIE' not in request.environ
                               or not request.cookies.get(self.get_cookie_name(app))):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response):
        if not session and not session.modified and not session.accessed:
            return None
        return super().save_session(app, session, response)

    def get_cookie_secure(self, app):
        if app.config.get('SESSION_COOKIE_SECURE'):
            return True
        return has_request_context() and request.is_secure


_HEADERS_LOWER = tuple((name.lower(), name, value) for name, value in HEADERS.items())


def _headers(response):
    # One pass over the response's headers instead of a search per header (setdefault): a view may
    # set its own (the modeler page's CSP).
    present = {name.lower() for name in response.headers.keys()}
    for lower, name, value in _HEADERS_LOWER:
        if lower not in present:
            response.headers.add(name, value)
    if request.endpoint not in CACHEABLE_ENDPOINTS or response.status_code >= 400:
        response.headers['Cache-Control'] = 'no-store'
        response.headers['Pragma'] = 'no-cache'   # HTTP/1.0 caches
        response.headers.pop('Expires', None)
    retry_after = g.get('jiuzhu_retry_after')
    if response.status_code == 429 and retry_after:
        response.headers['Retry-After'] = str(int(retry_after))
    return response


def install(app):
    config = app.config
    # Flask's defaults already hold these keys (as None/False), so setdefault would change nothing.
    if not config.get('SESSION_COOKIE_SAMESITE'):
        config['SESSION_COOKIE_SAMESITE'] = 'Lax'
    config['SESSION_COOKIE_HTTPONLY'] = True
    if config.get('JIUZHU_SECURE_COOKIES'):
        config['SESSION_COOKIE_SECURE'] = True
    app.session_interface = SessionInterface()
    app.after_request(_headers)
    throttle.init_app(app)
