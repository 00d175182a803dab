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
- No framing (frame-ancestors + X-Frame-Options), nosniff, same-origin referrers.
- Cache-Control: no-store on everything but the static files: pages and API answers carry
  personal data, and a shared office computer's browser cache must not keep them.
"""
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
    """Flask's signed cookie, Secure whenever this request came over HTTPS."""

    def get_cookie_secure(self, app):
        if app.config.get('SESSION_COOKIE_SECURE'):
            return True
        return has_request_context() and request.is_secure


def _headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
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
