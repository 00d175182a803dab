# gunicorn -c deploy/gunicorn.conf.py 'service:create_app()'
# Several workers share PostgreSQL; timers are fired by the separate `jiuzhu scheduler` process,
# so the embedded sweep stays off here (JIUZHU_EMBEDDED_SCHEDULER unset).
import os

bind = os.environ.get('JIUZHU_BIND', '127.0.0.1:8000')
workers = int(os.environ.get('JIUZHU_WORKERS', '4'))
# One request at a time per worker, on connections kept alive (gthread: nginx's upstream keepalive,
# deploy/nginx.conf). A request is CPU in Python: a second thread in a worker adds no parallelism
# on top of the workers, only GIL hand-overs. With `threads = 2`, 4 workers on 2 cores took ~3 ms more
# app CPU per list + completion (31 vs 28 ms) and completed fewer tasks per second (23 vs 31/s; means
# of four tests/bench/bench_load.py runs each, at load 4-9 on a shared machine, single runs ±8/s).
# For more requests at once, more workers (JIUZHU_THREADS stays for a deployment that wants threads).
worker_class = 'gthread'
threads = int(os.environ.get('JIUZHU_THREADS', '1'))
# Longer than nginx keeps an idle upstream connection (keepalive_timeout 4s there): nginx, not
# gunicorn, closes it, so nginx never sends a request down a connection gunicorn is closing.
keepalive = 5
timeout = 60
accesslog = '-'
forwarded_allow_ips = '127.0.0.1'


def on_starting(server):
    # Each worker would otherwise invent its own random key: tokens and sessions signed by one
    # worker would be rejected by the next. Production takes its secret from the environment.
    if not os.environ.get('SECRET_KEY'):
        raise SystemExit('SECRET_KEY is not set: put it in /etc/jiuzhu/jiuzhu.env (deploy/jiuzhu.env.example)')
