"""Under the Content-Security-Policy (web/security.py) the pages still work in a real browser:
bpmn-js draws and marks the diagram, the back link and the notices' print button work, and the
browser reports no refused script or style."""
import re

from .helpers import accepted, start


def _watch_csp(person):
    refused = []
    person.page.on('console', lambda msg: refused.append(msg.text)
                   if 'Content Security Policy' in msg.text else None)
    return refused


def test_diagrams_draw_under_the_content_security_policy(server, person):
    case_id = start(server.app, business_key='T01-2026-0301')
    accepted(server.app, case_id)
    sup = person('jianguan')
    refused = _watch_csp(sup)
    page = sup.page
    response = page.goto(f'/cases/{case_id}')
    assert "script-src 'self'" in response.headers['content-security-policy']
    page.wait_for_selector('#diagram[data-state=ready]')
    assert page.locator('#diagram svg').count() >= 1
    assert page.locator('.marker-completed').count() >= 1 and page.locator('.marker-active').count() >= 1
    # The shapes carry their bpmn-js styles (stroke colours written into the SVG at run time).
    assert page.locator('#diagram .djs-element').count() > 5

    # The notice page prints through page.js, not an onclick attribute.
    page.goto(f'/cases/{case_id}/notices/acceptance_notice')
    assert page.locator('button[data-print]').count() == 1
    page.evaluate('window.print = function () { window.__printed = true; }')
    page.click('button[data-print]')
    assert page.evaluate('window.__printed') is True

    # The error page's back link goes back without javascript: URLs.
    page.goto('/supervision')
    page.goto('/cases/999999')
    page.click('a[data-back]')
    page.wait_for_url(re.compile(r'/supervision$'))
    assert not refused, refused


def test_designer_diagram_draws_under_the_policy(server, person):
    des = person('sheji')
    refused = _watch_csp(des)
    page = des.page
    page.goto('/designer')
    page.locator('a[href^="/designer/definitions/"]').first.click()
    page.wait_for_selector('#diagram[data-state=ready]')
    assert not refused, refused
