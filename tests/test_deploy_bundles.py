"""Deploy bundles with the real processes/ and forms/: placed by path and process id, previewed
(a plain-language diff) before they go live, forms kept with each version, files downloadable."""
import io
import json
import re
import zipfile

import pytest
from sqlalchemy import select

from service.extensions import db
from service.models import DeployPreview, ProcessDefinition, ProcessInstance
from service.services import forms, repository

from .api_helpers import ROOT, add_people, pre_verify, ready_tasks
from .flow_helpers import APPLICATION, COMPLETE

DIBAO_A = (ROOT / 'processes' / 'delegated' / 'dibao_a.bpmn').read_text(encoding='utf-8')
CEILING = (ROOT / 'processes' / 'decisions' / 'temporary_aid_ceiling.dmn').read_text(encoding='utf-8')
DEPLOYED = ('delegated/dibao_a.bpmn', 'delegated/temporary_aid.bpmn', 'legacy/temporary_aid.bpmn')
ACCEPTANCE = json.loads((ROOT / 'forms' / 'dibao_acceptance.schema.json').read_text(encoding='utf-8'))


def edited_dibao_a():
    """The publicity shortened to 5 days; the approval notice moved to the township leader's lane."""
    text = DIBAO_A.replace('add_days(publicity_started_at, 7)', 'add_days(publicity_started_at, 5)')
    assert text != DIBAO_A
    moved = '        <bpmn:flowNodeRef>issue_approval_notice</bpmn:flowNodeRef>\n'
    assert moved in text
    text = text.replace(moved, '', 1)
    leader = '        <bpmn:flowNodeRef>township_confirmation</bpmn:flowNodeRef>\n'
    return text.replace(leader, leader + moved, 1)


def edited_acceptance_form():
    schema = json.loads(json.dumps(ACCEPTANCE))
    schema['properties']['acceptance']['properties']['received_by'] = {'type': 'string', 'title': '接收人'}
    schema['properties']['acceptance']['required'].append('received_by')
    return json.dumps(schema, ensure_ascii=False, indent=2)


@pytest.fixture
def des(make_app, monkeypatch):
    """dibao_a and both temporary aid processes deployed from disk; people; the designer's client."""
    # Scenarios of a preview run in a child process (seconds): test_scenario_preview.py covers them.
    app = make_app(JIUZHU_PREVIEW_SCENARIOS=False)
    with app.app_context():
        tree = repository.read_tree(ROOT / 'processes')
        repository.deploy(tree, 'tester', only=set(DEPLOYED))
        people = add_people(app, monkeypatch)
        people['des'].people = people
        yield people['des']


def upload(client, url, files, token=None):
    data = {'files': [(io.BytesIO(content.encode('utf-8') if isinstance(content, str) else content), name)
                      for name, content in files]}
    if token is not None:
        data['preview_token'] = token
    return client.c.post(url, headers=client.headers(), content_type='multipart/form-data', data=data)


def preview(client, files):
    r = upload(client, '/api/v1/process-definitions/preview', files)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.json


def deploy(client, files, token, status=201):
    r = upload(client, '/api/v1/process-definitions', files, token)
    assert r.status_code == status, r.get_data(as_text=True)
    return r.json


def by_key(result):
    return {p['key']: p for p in result['processes']}


def versions(key):
    return [d.version for d in db.session.scalars(select(ProcessDefinition).where(ProcessDefinition.key == key)
                                                  .order_by(ProcessDefinition.version))]


def start_dibao(people):
    r = people['cw1'].post('/api/v1/instances', json={'process_key': 'dibao_a', 'township': 't01',
                                                      'data': APPLICATION})
    assert r.status_code == 201, r.json
    return r.json


def test_preview_shows_the_timer_and_lane_change_and_running_cases_keep_their_version_and_forms(des):
    people = des.people
    running = start_dibao(people)

    files = [('dibao_a.bpmn', edited_dibao_a())]      # a base name, as a browser sends it
    result = preview(des, files)
    a = by_key(result)['dibao_a']
    assert (a['status'], a['latest_version'], a['version'], a['open_cases']) == ('new_version', 1, 2, 1)
    assert sorted(c['kind'] for c in a['changes']) == ['role_changed', 'timer_changed']
    texts = ' '.join(c['text'] for c in a['changes'])
    assert '「出具低保审批通知书」的办理人：镇街经办人 → 镇街分管领导' in texts
    assert 'add_days(publicity_started_at, 7) → add_days(publicity_started_at, 5)' in texts
    assert '公示期满无异议' in texts
    assert result['written'] == ['delegated/dibao_a.bpmn']
    assert set(by_key(result)) == {'dibao_a'}

    # Only the previewed files deploy, and only while nothing else was deployed since.
    assert deploy(des, files, None, 422)['error'] == 'preview_required'
    assert deploy(des, [('dibao_a.bpmn', DIBAO_A)], result['preview_token'], 409)['error'] == 'preview_mismatch'
    assert deploy(people['adm'], files, result['preview_token'], 409)['error'] == 'preview_mismatch'
    done = deploy(des, files, result['preview_token'])
    assert [(d['key'], d['version']) for d in done['deployed']] == [('dibao_a', 2)]
    assert deploy(des, files, result['preview_token'], 409)['error'] == 'preview_mismatch'   # used up

    # A new case follows v2; the running one stays on v1.
    new = start_dibao(people)
    assert new['version']['label'] == 'dibao_a v2'
    assert people['sup'].get(f"/api/v1/instances/{running['id']}").json['version']['label'] == 'dibao_a v1'

    # A changed form (uploaded as forms/…): every process using it gets a new version ...
    form_files = [('forms/dibao_acceptance.schema.json', edited_acceptance_form())]
    result = preview(des, form_files)
    assert result['changed_forms'] == ['dibao_acceptance.schema.json']
    changed = {k: p for k, p in by_key(result).items() if p['status'] == 'new_version'}
    assert 'dibao_a' in changed and changed['dibao_a']['version'] == 3
    kinds = {c['kind'] for c in changed['dibao_a']['changes']}
    assert kinds == {'form_field_added'}, changed['dibao_a']['changes']
    assert '新增字段「接收人」（必填）' in changed['dibao_a']['changes'][0]['text']
    deploy(des, form_files, result['preview_token'])

    # ... while the running case keeps its own form: its acceptance task takes the old data.
    cw = people['cw1']
    for case, needs_new_field in ((running, False), (new, False), (start_dibao(people), True)):
        pre_verify(cw, people['ver'], case['id'])
        task = ready_tasks(cw, case['id'])['check_materials']
        detail = cw.get(f"/api/v1/tasks/{task['id']}").json
        fields = detail['form']['schema']['properties']['acceptance']['properties']
        assert ('received_by' in fields) is needs_new_field
        cw.post(f"/api/v1/tasks/{task['id']}/claim")
        r = cw.post(f"/api/v1/tasks/{task['id']}/complete", json={'data': COMPLETE})
        assert r.status_code == (422 if needs_new_field else 200), r.json
        if needs_new_field:
            assert r.json['details'] == {'acceptance.received_by': '必填'}


def test_a_decision_table_alone_redeploys_the_processes_that_use_it(des):
    changed = CEILING.replace('dibao_standard * 5', 'dibao_standard * 4')
    result = preview(des, [('temporary_aid_ceiling.dmn', changed)])     # placed by its decision id
    assert result['written'] == ['decisions/temporary_aid_ceiling.dmn']
    news = {k: p for k, p in by_key(result).items() if p['status'] == 'new_version'}
    assert 'temporary_aid_delegated' in news
    texts = [c['text'] for c in news['temporary_aid_delegated']['changes']]
    assert any('第 1 条规则' in t and 'dibao_standard * 4' in t for t in texts), texts
    before = {k: versions(k)[-1] for k in news}
    done = deploy(des, [('temporary_aid_ceiling.dmn', changed)], result['preview_token'])
    assert {d['key']: d['version'] for d in done['deployed']} == {k: v + 1 for k, v in before.items()}
    row = repository.latest('temporary_aid_delegated')
    assert 'dibao_standard * 4' in row.dependencies['decisions/temporary_aid_ceiling.dmn']


def test_the_delegated_temporary_aid_deploys_beside_the_legacy_one(des):
    source = (ROOT / 'processes' / 'delegated' / 'temporary_aid.bpmn').read_text(encoding='utf-8')
    edited = source.replace('isExecutable="true"', 'isExecutable="true" name="临时救助（下放）"', 1) \
        if 'name=' not in source.split('isExecutable="true"')[0].rsplit('<bpmn:process', 1)[-1] else source
    edited = edited.replace('</bpmn:definitions>', '<!-- edited -->\n</bpmn:definitions>')
    for name in ('delegated/temporary_aid.bpmn', 'temporary_aid.bpmn'):   # with its folder, or a base name
        result = preview(des, [(name, edited)])
        assert set(by_key(result)) == {'temporary_aid_delegated'}, result
        assert result['written'] == ['delegated/temporary_aid.bpmn']
    deploy(des, [('temporary_aid.bpmn', edited)], result['preview_token'])
    assert versions('temporary_aid_delegated') == [1, 2] and versions('temporary_aid_legacy') == [1]
    assert repository.latest('temporary_aid_delegated').file == 'delegated/temporary_aid.bpmn'


def test_a_zipped_folder_with_its_forms_and_the_download_of_each_version(des):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w') as archive:
        archive.writestr('delegated/dibao_a.bpmn', edited_dibao_a())
        archive.writestr('forms/dibao_acceptance.schema.json', edited_acceptance_form())
        archive.writestr('__MACOSX/._dibao_a.bpmn', b'\x00\x05')
        archive.writestr('README.md', '# 说明')
        archive.writestr('lanes.json', '{}')
    files = [('dibao_a.zip', buffer.getvalue())]
    result = preview(des, files)
    a = by_key(result)['dibao_a']
    assert {c['kind'] for c in a['changes']} == {'role_changed', 'timer_changed', 'form_field_added'}
    deploy(des, files, result['preview_token'])
    v1, v2 = (db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == 'dibao_a',
                                                               ProcessDefinition.version == v)) for v in (1, 2))

    r = des.get(f'/api/v1/process-definitions/{v1.id}/files')
    assert r.status_code == 200 and r.mimetype == 'application/zip'
    archive = zipfile.ZipFile(io.BytesIO(r.data))
    assert archive.read('delegated/dibao_a.bpmn').decode('utf-8') == DIBAO_A
    assert json.loads(archive.read('forms/dibao_acceptance.schema.json')) == ACCEPTANCE
    r = des.get(f'/api/v1/process-definitions/{v2.id}/files/forms/dibao_acceptance.schema.json')
    assert r.status_code == 200 and 'received_by' in r.get_data(as_text=True)
    assert des.get(f'/api/v1/process-definitions/{v2.id}/files/delegated/nothing.bpmn').status_code == 404
    assert des.people['cw1'].get(f'/api/v1/process-definitions/{v1.id}/files').status_code == 403
    assert forms.load('dibao_acceptance.schema.json', v1) == ACCEPTANCE


def test_a_stale_preview_and_bad_uploads_are_refused_clearly(des):
    first = preview(des, [('dibao_a.bpmn', edited_dibao_a())])
    other = edited_dibao_a().replace('add_days(publicity_started_at, 5)', 'add_days(publicity_started_at, 6)')
    second = preview(des, [('dibao_a.bpmn', other)])
    deploy(des, [('dibao_a.bpmn', other)], second['preview_token'])
    assert deploy(des, [('dibao_a.bpmn', edited_dibao_a())], first['preview_token'], 409)['error'] == 'preview_stale'

    for files, where in (([('notes.txt', 'x')], 'notes.txt'), ([('../x.bpmn', DIBAO_A)], '../x.bpmn'),
                         ([('forms/x.schema.json', '{')], 'forms/x.schema.json'),
                         ([('b.zip', b'not a zip')], 'b.zip'),
                         ([('x.bpmn', '\ufeff'.encode('utf-16'))], 'x.bpmn')):
        r = upload(des, '/api/v1/process-definitions/preview', files)
        assert r.status_code == 422, r.get_data(as_text=True)
        assert r.json['details'][0]['file'] == where, r.json
    # Used previews are gone; the stale one stays until it expires (a day).
    assert db.session.scalar(select(db.func.count()).select_from(DeployPreview)) == 1
    # The CLI path keeps working without a preview: processes/ and forms/ as they are on disk. The
    # disk's dibao_a is version 1's content, deployed over version 2: a rollback, so version 3 (as
    # Camunda's duplicate filtering, only the version in force counts as unchanged).
    results = {d.key: (d.version, new) for d, new in repository.deploy_directory(ROOT / 'processes', 'tester')}
    assert results['dibao_a'] == (3, True) and results['dibao_b'] == (1, True)
    assert db.session.scalar(select(db.func.count()).select_from(ProcessInstance)) == 0


def test_an_upgrade_from_0004_stores_each_versions_forms_and_finds_it_unchanged(database_url, make_app, monkeypatch,
                                                                                  tmp_path):
    import shutil
    from datetime import datetime

    import sqlalchemy as sa

    from service import create_app
    from service.migrations import runner

    from .migration_helpers import connect, url_of

    # A version as the code of revision 0004 stored it: no forms, a digest of spec and files only; and
    # a diagram of those days (no extensionForm yet: the migration's frozen list does not know it).
    dibao_a = re.sub(r'\s*<bpmn:extensionElements>\s*<spiffworkflow:properties>\s*<spiffworkflow:property '
                     r'name="extensionForm"[^>]*/>\s*</spiffworkflow:properties>\s*</bpmn:extensionElements>', '', DIBAO_A)
    assert 'extensionForm' not in dibao_a
    scratch = create_app({'TESTING': True, 'DATABASE_URL': f'sqlite:///{tmp_path / "scratch.sqlite3"}',
                          'SECRET_KEY': 'x', 'JIUZHU_CLOCK': 'manual', 'JIUZHU_HOLIDAYS': None})
    with scratch.app_context():
        from service.extensions import db as scratch_db
        files = {'delegated/dibao_a.bpmn': dibao_a.encode('utf-8')}
        proc = repository.parse(files)['dibao_a']
        spec_json = scratch.extensions['jiuzhu.engine'].serializer.dump_spec(proc.spec, proc.subprocess_specs)
        old_digest = repository._digest(spec_json, proc.source, [], {})
        scratch_db.engine.dispose()
    runner.upgrade(url_of(database_url), '0004')
    engine, connection = connect(database_url)
    table = sa.table('process_definition', sa.column('dependencies', sa.JSON), *(sa.column(c) for c in (
        'key', 'name', 'version', 'sha256', 'category', 'variant', 'file', 'source', 'spec_json',
        'deployed_at', 'deployed_by')))
    with connection.begin():
        connection.execute(table.insert().values(
            key='dibao_a', name=proc.name, version=1, sha256=old_digest, category=proc.category, variant=proc.variant,
            file='delegated/dibao_a.bpmn', source=dibao_a, dependencies={}, spec_json=spec_json,
            deployed_at=datetime(2026, 9, 1), deployed_by='tester'))
    connection.close()
    engine.dispose()

    folder = tmp_path / 'forms'
    shutil.copytree(ROOT / 'forms', folder)
    monkeypatch.setenv('JIUZHU_FORMS_DIR', str(folder))
    runner.upgrade(url_of(database_url))

    app = make_app(JIUZHU_FORMS_DIR=str(folder))
    with app.app_context():
        v1 = repository.latest('dibao_a')
        assert v1.forms['dibao_acceptance.schema.json'] == (folder / 'dibao_acceptance.schema.json').read_text('utf-8')
        assert 'dibao_application.uischema.json' in v1.forms and v1.sha256 != old_digest
        # The same files deployed again: nothing new (the upgrade computed the digest a deploy computes).
        assert [(d.version, new) for d, new in repository.deploy(files, 'tester')] == [(1, False)]
        # forms/ changes on disk: version 1 keeps its copy; the next deploy makes version 2 with the new one.
        (folder / 'dibao_acceptance.schema.json').write_text(edited_acceptance_form(), encoding='utf-8')
        assert forms.load('dibao_acceptance.schema.json', v1) == ACCEPTANCE
        assert [(d.version, new) for d, new in repository.deploy(files, 'tester')] == [(2, True)]
        v2 = repository.latest('dibao_a')
        assert 'received_by' in forms.load('dibao_acceptance.schema.json', v2)['properties']['acceptance']['properties']


@pytest.fixture
def web_app(make_app, monkeypatch):
    from werkzeug.security import generate_password_hash

    from service import demo
    from service.services import users
    monkeypatch.setattr(users, 'hash_password', lambda pw: generate_password_hash(pw, method='pbkdf2:sha256:1000'))
    app = make_app()
    with app.app_context():
        repository.deploy(repository.read_tree(ROOT / 'processes'), 'tester', only={'delegated/dibao_a.bpmn'})
        demo.load_users()
        yield app


def test_the_designer_page_previews_in_plain_words_and_deploys_only_what_was_previewed(web_app):
    from .test_web_pages import signed_in, token_of

    client = signed_in(web_app, 'sheji')
    page = client.get('/designer').get_data(as_text=True)
    assert '替换已部署目录中的文件' not in page and '服务器上的文件不会被改动' in page
    assert 'action="/designer/preview"' in page and '下载文件' in page

    r = client.post('/designer/preview', content_type='multipart/form-data', data={
        'csrf_token': client.csrf, 'files': [(io.BytesIO(edited_dibao_a().encode('utf-8')), 'dibao_a.bpmn')]})
    assert r.status_code == 200, r.get_data(as_text=True)
    page = r.get_data(as_text=True)
    changes = re.findall(r'<li data-kind="[a-z_]+">([^<]+)</li>', page)
    assert changes == ['「出具低保审批通知书」的办理人：镇街经办人 → 镇街分管领导',
                       '定时器「公示期满无异议」（「审批结果公示7天」上）的时间：add_days(publicity_started_at, 7) → '
                       'add_days(publicity_started_at, 5)']
    assert '部署为第 2 版' in page and '0 件' in page and 'id="deploy-button"' in page
    # dibao_a's scenarios ran on the edit: the moved task fails those that have the caseworker do it.
    assert 'id="scenario-results"' in page and '未通过' in page and 'issue_approval_notice' in page
    token = re.search(r'name="preview_token" value="([0-9a-f]+)"', page).group(1)

    # The deploy needs the preview's token; a made-up one is refused with a clear page.
    r = client.post('/designer/deploy', data={'csrf_token': client.csrf, 'preview_token': 'f' * 64})
    assert r.status_code == 409 and '重新预览' in r.get_data(as_text=True)
    r = client.post('/designer/deploy', data={'csrf_token': client.csrf})
    assert r.status_code == 422 and '预览' in r.get_data(as_text=True)
    r = client.post('/designer/deploy', data={'csrf_token': client.csrf, 'preview_token': token})
    assert r.status_code == 302
    page = client.get('/designer').get_data(as_text=True)
    assert '已部署：' in page and '第 2 版' in page

    # An invalid upload shows its problems and no deploy button.
    r = client.post('/designer/preview', content_type='multipart/form-data', data={
        'csrf_token': client.csrf, 'files': [(io.BytesIO(b'<bpmn'), 'delegated/broken.bpmn')]})
    assert r.status_code == 422 and 'id="problems"' in r.get_data(as_text=True)
    assert 'deploy-button' not in r.get_data(as_text=True)

    # Each version's files: the page lists them; the zip and one file download.
    v1 = db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == 'dibao_a',
                                                           ProcessDefinition.version == 1))
    page = client.get(f'/designer/definitions/{v1.id}').get_data(as_text=True)
    assert f'/designer/definitions/{v1.id}/files/forms/dibao_acceptance.schema.json' in page
    r = client.get(f'/designer/definitions/{v1.id}/files')
    assert zipfile.ZipFile(io.BytesIO(r.data)).read('delegated/dibao_a.bpmn').decode('utf-8') == DIBAO_A
    r = client.get(f'/designer/definitions/{v1.id}/files/delegated/dibao_a.bpmn')
    assert r.status_code == 200 and r.get_data(as_text=True) == DIBAO_A
    assert client.get(f'/designer/definitions/{v1.id}/files/x.bpmn').status_code == 404
    assert token_of(page)


def test_deploying_an_older_versions_content_again_rolls_back_to_it(des):
    """A designer who deploys version 1's files after version 2 gets them live as version 3 (a rollback),
    not a silent 'unchanged' that leaves version 2 in force."""
    path, key = 'legacy/temporary_aid.bpmn', 'temporary_aid_legacy'
    tree = repository.read_tree(ROOT / 'processes')
    original = tree[path]
    changed = original.replace('<bpmn:documentation>'.encode(), '<bpmn:documentation>改：'.encode(), 1)
    assert changed != original
    first = versions(key)[-1]
    repository.deploy({**tree, path: changed}, 'tester', only={path})
    assert versions(key)[-1] == first + 1
    again = repository.deploy({**tree, path: original}, 'tester', only={path})
    assert [(d.key, new) for d, new in again] == [(key, True)]
    latest = repository.latest(key)
    assert latest.version == first + 2 and latest.source.encode() == original
    # The same content as the version in force is still 'unchanged'.
    assert [new for _, new in repository.deploy({**tree, path: original}, 'tester', only={path})] == [False]
