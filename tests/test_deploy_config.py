"""deploy/: what gunicorn and nginx are told agrees (no server is started here; tests/bench/bench_load.py runs them)."""
import re
import runpy
from pathlib import Path

from gunicorn.config import Config

DEPLOY = Path(__file__).resolve().parent.parent / 'deploy'


def gunicorn_config(monkeypatch, **env):
    for name in ('JIUZHU_THREADS', 'JIUZHU_WORKERS', 'JIUZHU_ACCESS_LOG', 'SECRET_KEY'):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    cfg = Config()
    for key, value in runpy.run_path(str(DEPLOY / 'gunicorn.conf.py')).items():
        if key in cfg.settings:
            cfg.set(key, value)
    return cfg


def test_threaded_workers_on_kept_alive_connections(monkeypatch):
    cfg = gunicorn_config(monkeypatch)
    assert (cfg.worker_class_str, cfg.threads, cfg.workers) == ('gthread', 2, 4)
    assert gunicorn_config(monkeypatch, JIUZHU_THREADS='1').threads == 1


def test_nginx_closes_an_idle_upstream_connection_before_gunicorn_does(monkeypatch):
    """Else nginx may send a request down a connection gunicorn is closing: a POST is not retried (502)."""
    nginx = (DEPLOY / 'nginx.conf').read_text()
    upstream = re.search(r'upstream jiuzhu \{(.*?)\}', nginx, re.S).group(1)
    idle = int(re.search(r'keepalive_timeout (\d+)s;', upstream).group(1))
    assert idle < gunicorn_config(monkeypatch).keepalive
    assert 'proxy_pass http://jiuzhu;' in nginx and 'proxy_http_version 1.1;' in nginx
    assert 'proxy_set_header Connection "";' in nginx


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
