"""Third-party diagrams against today's code: deploy each file of a directory as a designer does
(preview, then deploy with the preview's token, over the API), start every process it deployed with
no data as a caseworker, and count how each ended.

    .venv/bin/python -m tests.bench.bench_corpus DIR [--timeout 20] [--verbose]

The corpus is not in the repository (public code stays out of it): fetch SpiffWorkflow's and
SpiffArena's own test and example .bpmn/.dmn files into a directory and point this at it. Each
.bpmn goes with the files of DIR that define what it calls (calledElement, calledDecisionId); each
.dmn is also deployed alone. One throw-away SQLite database, the manual clock, the real lanes.

Per file: accepted, refused (422, with the element), 500, hang. Per started process: finished,
offered, waiting_timer, waiting_message, start_refused (422 naming the element), stuck, 500, hang.
Any 500, hang, stuck start or refusal that names no element is a bug (tests/test_third_party_kinds.py
holds our own diagram of each kind found). Not collected by pytest.
"""
import argparse
import re
import shutil
import signal
import sys
import tempfile
from collections import Counter
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[2]


class Hang(BaseException):
    """Raised by the alarm: a BaseException, so no error handler of the app turns it into a 500."""


def _alarm(signum, frame):
    raise Hang()


def _index(files):
    """process id -> file, decision id -> file, over the directory."""
    defines = {}
    for path in files:
        try:
            root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
        except etree.XMLSyntaxError:
            continue
        for node in root.iter():
            if isinstance(node.tag, str) and etree.QName(node).localname in ('process', 'decision') and node.get('id'):
                defines.setdefault(node.get('id'), path)
    return defines


def _bundle(path, defines):
    """The file and those of the directory defining what it calls (one level is what the corpus needs)."""
    text = path.read_text(encoding='utf-8', errors='replace')
    called = set(re.findall(r'calledElement="([^"]+)"', text))
    called |= set(re.findall(r'calledDecisionId>\s*([^<\s]+)\s*<', text))
    called |= set(re.findall(r'decisionRef="([^"]+)"', text))
    files = {path.name: path.read_bytes()}
    for ident in called:
        other = defines.get(ident)
        if other is not None and other != path:
            files[other.name] = other.read_bytes()
    return files


def _app(tmp):
    from service import create_app
    from tests.conftest import PRODUCTION_KEYS, T0, schema_at_head
    processes = tmp / 'processes'
    processes.mkdir()
    shutil.copy(ROOT / 'processes' / 'lanes.json', processes / 'lanes.json')
    url = f'sqlite:///{tmp / "corpus.sqlite3"}'
    schema_at_head(url)
    return create_app({'TESTING': True, 'DATABASE_URL': url, 'SECRET_KEY': 'corpus', 'JIUZHU_CLOCK': 'manual',
                       'JIUZHU_CLOCK_START': T0, 'JIUZHU_HOLIDAYS': None, 'JIUZHU_FILES_DIR': str(tmp / 'files'),
                       'JIUZHU_PROCESSES_DIR': str(processes), **PRODUCTION_KEYS})


def _people(app):
    from service.services import auth, users
    from tests.api_helpers import PASSWORD, Client
    out = {}
    for name, role in (('des', 'designer'), ('cw1', 'township_caseworker')):
        user = users.add_user(name, name, role, 't01' if role != 'designer' else 'county', PASSWORD, 'corpus')
        out[name] = Client(app.test_client(), auth.issue_token(user)[0], name)
    return out


def _guarded(fn, seconds):
    signal.alarm(seconds)
    try:
        return fn()
    except Hang:
        return 'hang'
    finally:
        signal.alarm(0)


def run(directory, seconds=20, verbose=False):
    from service.extensions import db
    from tests.kind_helpers import deploy, standing
    files = sorted(p for p in Path(directory).rglob('*') if p.suffix in ('.bpmn', '.dmn'))
    defines = _index(files)
    per_file, per_start, bugs = Counter(), Counter(), []
    signal.signal(signal.SIGALRM, _alarm)
    with tempfile.TemporaryDirectory() as tmp:
        app = _app(Path(tmp))
        with app.app_context():
            people = _people(app)
            for path in files:
                answer = _guarded(lambda: deploy(people['des'], _bundle(path, defines)), seconds)
                db.session.rollback()
                if answer == 'hang':
                    per_file['hang'] += 1
                    bugs.append((path.name, None, 'deploy hang'))
                    continue
                code, body = answer.status_code, answer.get_json(silent=True) or {}
                if code == 422:
                    per_file['refused 422'] += 1
                    if verbose:
                        details = body.get('details') or []
                        first = details[0] if details and isinstance(details, list) else {}
                        print(f'{path.name}: 422 {first.get("element")}: {first.get("message", body.get("message"))}')
                    continue
                if code != 201:
                    per_file[str(code)] += 1
                    bugs.append((path.name, None, f'deploy {code}: {answer.get_data(as_text=True)[:300]}'))
                    continue
                per_file['accepted'] += 1
                if verbose and not body.get('deployed'):
                    print(f'{path.name}: accepted, nothing new to start ({len(body.get("unchanged", []))} unchanged)')
                for item in body.get('deployed', []):
                    outcome = _start(people, item['key'], seconds, standing)
                    db.session.rollback()
                    per_start[outcome] += 1
                    if verbose:
                        print(f'{path.name}: {item["key"]}: {outcome}')
                    if outcome in ('500', 'hang', 'stuck', 'start_refused (no element)') or outcome.startswith('HTTP'):
                        bugs.append((path.name, item['key'], outcome))
            db.session.remove()
            db.engine.dispose()
    return len(files), per_file, per_start, bugs


def _start(people, key, seconds, standing):
    def go():
        return people['cw1'].post('/api/v1/instances', json={'process_key': key, 'township': 't01', 'data': {}})
    answer = _guarded(go, seconds)
    if answer == 'hang':
        return 'hang'
    if answer.status_code == 422:
        element = ((answer.get_json(silent=True) or {}).get('details') or {}).get('element')
        return 'start_refused' if element else 'start_refused (no element)'
    if answer.status_code == 500:
        return '500'
    if answer.status_code != 201:
        return f'HTTP {answer.status_code}'
    return standing(answer.get_json()['id'])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('directory', nargs='?', help='the .bpmn/.dmn files (make bench runs without one)')
    parser.add_argument('--timeout', type=int, default=20, help='seconds before a deploy or start counts as a hang')
    parser.add_argument('--verbose', action='store_true')
    args = parser.parse_args(argv)
    if not args.directory:
        print('no corpus directory given: nothing to run (the corpus is not in the repository)')
        return 0
    count, per_file, per_start, bugs = run(args.directory, args.timeout, args.verbose)
    print(f'{count} files: ' + ', '.join(f'{k} {v}' for k, v in sorted(per_file.items())))
    print(f'{sum(per_start.values())} starts: ' + ', '.join(f'{k} {v}' for k, v in sorted(per_start.items())))
    for name, key, what in bugs:
        print(f'BUG {name} {key or ""}: {what}')
    return 1 if bugs else 0


if __name__ == '__main__':
    sys.exit(main())
