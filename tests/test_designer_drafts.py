"""Drafts of the browser modeler, server side: saved per designer and path, validated with the
deploy's own checks (problems name file, line and element), previewed and deployed with the
preview's token, then gone. Designers only; bad input is a clear 4xx."""
import json

import pytest

from service.services import designer_drafts as drafts, repository

from .security_helpers import ROOT, demo_app, page_csrf, signed_in

DIBAO_A = (ROOT / 'processes' / 'delegated' / 'dibao_a.bpmn').read_text(encoding='utf-8')
CHANGED = DIBAO_A.replace('add_days(publicity_started_at, 7)', 'add_days(publicity_started_at, 10)')
BROKEN = DIBAO_A.replace('<bpmn:flowNodeRef>issue_approval_notice</bpmn:flowNodeRef>', '')


@pytest.fixture
def app(make_app, monkeypatch):
    return demo_app(make_app, monkeypatch)


def _post(client, url, **fields):
    return client.post(url, data=dict(fields, csrf_token=page_csrf(client, '/designer')))


def _save(client, files, path='delegated/dibao_a.bpmn', base=None):
    fields = {'path': path, 'files': json.dumps(files)}
    if base:
        fields['base_definition_id'] = str(base)
    return _post(client, '/designer/drafts', **fields)


def test_save_validate_preview_deploy(app):
    designer = signed_in(app, 'sheji')
    with app.app_context():
        base = repository.latest('dibao_a').id
    page = designer.get(f'/designer/edit/{base}')
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'modeler-data' in html and 'bpmn-modeler.production.min.js' in html and 'dmn-modeler' in html

    r = _save(designer, {'delegated/dibao_a.bpmn': BROKEN}, base=base)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.json['path'] == 'delegated/dibao_a.bpmn'
    result = _post(designer, '/designer/drafts/validate', files=json.dumps({'delegated/dibao_a.bpmn': BROKEN})).json
    assert result['ok'] is False
    problem = next(p for p in result['problems'] if p['element'] == 'issue_approval_notice')
    assert problem['file'] == 'delegated/dibao_a.bpmn' and problem['line'] and '泳道' in problem['message']
    assert not problem['message'].endswith(')')          # the Chinese part only

    assert _save(designer, {'delegated/dibao_a.bpmn': CHANGED}, base=base).status_code == 200
    assert _post(designer, '/designer/drafts/validate',
                 files=json.dumps({'delegated/dibao_a.bpmn': CHANGED})).json['ok'] is True
    listing = designer.get('/designer').get_data(as_text=True)
    assert 'id="drafts"' in listing and '继续编辑' in listing
    reopened = designer.get('/designer/drafts/delegated/dibao_a.bpmn').get_data(as_text=True)
    assert 'publicity_started_at, 10' in reopened

    preview = _post(designer, '/designer/drafts/preview', path='delegated/dibao_a.bpmn')
    assert preview.status_code == 200
    text = preview.get_data(as_text=True)
    assert 'data-kind="timer_changed"' in text and 'name="draft_path"' in text
    token = text.split('name="preview_token" value="')[1].split('"')[0]
    done = _post(designer, '/designer/deploy', preview_token=token, draft_path='delegated/dibao_a.bpmn')
    assert done.status_code == 302
    with app.app_context():
        assert repository.latest('dibao_a').version == 2
        assert drafts.mine('sheji') == []


def test_drafts_are_per_designer_and_bad_input_is_refused(app):
    designer = signed_in(app, 'sheji')
    admin = signed_in(app, 'admin')
    assert _save(designer, {'delegated/dibao_a.bpmn': CHANGED}).status_code == 200
    assert admin.get('/designer/drafts/delegated/dibao_a.bpmn').status_code == 404     # not theirs
    assert _save(designer, {'delegated/dibao_a.bpmn': CHANGED}, path='../etc/passwd.bpmn').status_code == 422
    assert _save(designer, {'other.bpmn': CHANGED}).status_code == 422          # the opened file is missing
    assert _post(designer, '/designer/drafts', path='delegated/dibao_a.bpmn', files='not json').status_code == 422
    caseworker = signed_in(app, 't01_jingban')
    assert caseworker.get('/designer/drafts/delegated/dibao_a.bpmn').status_code == 403
    assert _save(caseworker, {'delegated/dibao_a.bpmn': CHANGED}).status_code == 403
