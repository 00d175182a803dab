# gunicorn -c deploy/gunicorn.conf.py 'service:create_app()'
# Several workers share PostgreSQL; timers are fired by the separate `jiuzhu scheduler` process,
# so the embedded sweep stays off here (JIUZHU_EMBEDDED_SCHEDULER unset).
import os

bind = os.environ.get('JIUZHU_BIND', '127.0.0.1:8000')
workers = int(os.environ.get('JIUZHU_WORKERS', '4'))
# Sync workers: one request at a time each, a new connection from nginx per request. A
# request is CPU in Python (one core at a time per process, whatever its threads), so a worker's second
# thread only queues behind the first; and a kept-alive connection stays with the worker that accepted
# it: with gthread workers a few busy connections could all sit on one worker while others idled
# (tests/bench/bench_load.py: 37 % of 2 cores idle in one run of three; 114–168 completions/s). A free
# sync worker takes the next connection, so every worker is busy while there is work. nginx buffers
# the request and the answer (its defaults), so a slow client never holds a worker.
worker_class = 'sync'
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
