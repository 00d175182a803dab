"""The load benchmark cleans up after itself: no gunicorn worker outlives a run.

A worker left behind keeps its database connections open into the next run (PostgreSQL then
refuses to drop the database) and its CPU would be counted by nobody.
"""
import argparse

import pytest

from .bench import bench_load

pytestmark = pytest.mark.xdist_group('bench_load')


@pytest.mark.parametrize('http', ['unix', 'tcp'])
def test_a_run_leaves_no_gunicorn_process_behind(monkeypatch, http):
    seen = []
    start_processes = bench_load.start_processes

    def start_and_note(*args):
        web, scheduler = start_processes(*args)
        seen.extend([web.pid, scheduler.pid] + bench_load.children(web.pid))
        return web, scheduler

    monkeypatch.setattr(bench_load, 'start_processes', start_and_note)
    args = argparse.Namespace(database_url=None, clients=1, cases=12, seconds=0.5, workers=2, http=http,
                              gunicorn_args='')
    result = bench_load.run(args)
    assert result['completed'] > 0 and not result['errors']
    assert len(seen) == 4              # master, scheduler, two workers
    assert [pid for pid in seen if bench_load.alive(pid)] == []

