# gunicorn -c deploy/gunicorn.conf.py 'service:create_app()'
# Several workers share PostgreSQL; timers are fired by the separate `jiuzhu scheduler` process,
# so the embedded sweep stays off here (JIUZHU_EMBEDDED_SCHEDULER unset).
import os

bind = os.environ.get('JIUZHU_BIND', '127.0.0.1:8000')
workers = int(os.environ.get('JIUZHU_WORKERS', '4'))
# gthread workers keep connections alive (nginx's upstream keepalive, deploy/nginx.conf). Requests are
# CPU in Python, so a second thread per worker adds little on 2 cores; one thread was not measurably
# cheaper either: app CPU per list + completion 27.4 ms (threads 1) vs 29.9 ms (threads 2), means of
# five tests/bench/bench_load.py runs each on a shared machine whose single runs spread ±4 ms.
# JIUZHU_THREADS=1 gives one request at a time per worker; for more at once, more workers.
worker_class = 'gthread'
threads = int(os.environ.get('JIUZHU_THREADS', '2'))
# Longer than nginx keeps an idle upstream connection (keepalive_timeout 4s there): nginx, not
# gunicorn, closes it, so nginx never sends a request down a connection gunicorn is closing.
keepalive = 5
timeout = 60
# nginx in front logs every request already (its access_log, deploy/nginx.conf): gunicorn's own line
# per request is off by default, ≈ 25–50 µs of a worker's CPU per request (formatting and writing).
# JIUZHU_ACCESS_LOG=- writes it to stdout (the journal), or give a file path.
accesslog = os.environ.get('JIUZHU_ACCESS_LOG') or None
forwarded_allow_ips = '127.0.0.1'


def on_starting(server):
    # Each worker would otherwise invent its own random key: tokens and sessions signed by one
    # worker would be rejected by the next. Production takes its secret from the environment.
    if not os.environ.get('SECRET_KEY'):
        raise SystemExit('SECRET_KEY is not set: put it in /etc/jiuzhu/jiuzhu.env (deploy/jiuzhu.env.example)')


def post_worker_init(worker):
    # The worker has built its app: its start-up heap is out of the collector's way (service/heap.py).
    from service.heap import freeze_startup_heap
    freeze_startup_heap()
