"""deploy/: what gunicorn and nginx are told agrees (no server is started here; tests/bench/bench_load.py runs them)."""
import re
import runpy
import subprocess
from pathlib import Path

from gunicorn.config import Config

DEPLOY = Path(__file__).resolve().parent.parent / 'deploy'


def gunicorn_config(monkeypatch, **env):
    for name in ('JIUZHU_WORKERS', 'JIUZHU_ACCESS_LOG', 'JIUZHU_BIND', 'SECRET_KEY'):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    cfg = Config()
    for key, value in runpy.run_path(str(DEPLOY / 'gunicorn.conf.py')).items():
        if key in cfg.settings:
            cfg.set(key, value)
    return cfg


def test_sync_workers_each_taking_the_next_connection(monkeypatch):
    """A kept-alive connection stays with the worker that accepted it, so several could queue on one
    worker while another idles; a sync worker answers one request per connection and a free one takes
    the next."""
    cfg = gunicorn_config(monkeypatch)
    assert (cfg.worker_class_str, cfg.workers) == ('sync', 4)
    assert gunicorn_config(monkeypatch, JIUZHU_WORKERS='8').workers == 8


def test_nginx_opens_a_connection_per_request_and_buffers_for_the_workers():
    """A sync worker closes each connection, so an upstream keepalive pool would hold nothing; nginx
    buffering the request and the answer (its defaults) keeps a slow client from holding a worker."""
    nginx = (DEPLOY / 'nginx.conf').read_text()
    upstream = re.search(r'upstream jiuzhu \{(.*?)\}', nginx, re.S).group(1)
    assert 'keepalive' not in upstream
    assert 'proxy_pass http://jiuzhu;' in nginx
    assert not re.search(r'proxy_(request_)?buffering\s+off', nginx)


def test_a_worker_takes_its_start_up_heap_out_of_the_collectors_way(monkeypatch):
    import gc
    hook = gunicorn_config(monkeypatch).post_worker_init
    before = gc.get_freeze_count()
    try:
        hook(None)
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()


def test_requests_are_logged_once_by_nginx_and_by_gunicorn_only_when_asked(monkeypatch):
    """nginx's access log (its default, never turned off here) has every request; gunicorn's line per
    request costs a worker CPU for a copy, so it is off unless JIUZHU_ACCESS_LOG names where to write."""
    assert 'access_log off' not in (DEPLOY / 'nginx.conf').read_text()
    assert gunicorn_config(monkeypatch).accesslog is None
    assert gunicorn_config(monkeypatch, JIUZHU_ACCESS_LOG='-').accesslog == '-'


def test_nginx_reaches_gunicorn_on_the_socket_the_web_unit_makes(monkeypatch):
    """nginx's upstream, the bind of the environment file and the web unit's runtime directory name
    one Unix socket, readable by nginx; PostgreSQL on the same machine by its socket too."""
    env = dict(line.split('=', 1) for line in (DEPLOY / 'jiuzhu.env.example').read_text().splitlines()
               if line and not line.startswith('#'))
    bind = env['JIUZHU_BIND']
    assert bind.startswith('unix:/run/jiuzhu/')
    nginx = (DEPLOY / 'nginx.conf').read_text()
    upstream = re.search(r'upstream jiuzhu \{(.*?)\}', nginx, re.S).group(1)
    assert re.findall(r'server\s+(\S+);', upstream) == [bind]
    unit = (DEPLOY / 'jiuzhu-web.service').read_text()
    assert 'RuntimeDirectory=jiuzhu\n' in unit and 'RuntimeDirectoryMode=0755\n' in unit
    assert gunicorn_config(monkeypatch, JIUZHU_BIND=bind).bind == [bind]
    assert gunicorn_config(monkeypatch).bind == ['127.0.0.1:8000']     # without it: loopback, as before
    assert env['DATABASE_URL'].endswith('@/jiuzhu?host=/var/run/postgresql')


def test_the_servers_venv_is_made_with_the_interpreter_the_deploy_notes_name():
    """deploy/python.md: the distribution's optimised Python, given to `make install` as PYTHON; the
    Makefile must make the venv with exactly that interpreter (a dry run prints its commands)."""
    interpreter = '/usr/bin/python3'
    assert f'make install PYTHON={interpreter}' in (DEPLOY / 'python.md').read_text()
    assert f'make install PYTHON={interpreter}' in (DEPLOY / 'postgresql.md').read_text()
    root = DEPLOY.parent
    dry = subprocess.run(['make', '-n', '-B', '-C', str(root), 'install', f'PYTHON={interpreter}'],
                         capture_output=True, text=True, check=True).stdout
    assert f'{interpreter} -m venv .venv' in dry.splitlines()
