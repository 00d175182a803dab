# gunicorn -c deploy/gunicorn.conf.py 'service:create_app()'
# Several workers share PostgreSQL; timers are fired by the separate `jiuzhu scheduler` process,
# so the embedded sweep stays off here (JIUZHU_EMBEDDED_SCHEDULER unset).
import os

bind = os.environ.get('JIUZHU_BIND', '127.0.0.1:8000')
workers = int(os.environ.get('JIUZHU_WORKERS', '4'))
threads = 2
timeout = 60
accesslog = '-'
forwarded_allow_ips = '127.0.0.1'


def on_starting(server):
    # Each worker would otherwise invent its own random key: tokens and sessions signed by one
    # worker would be rejected by the next. Production takes its secret from the environment.
    if not os.environ.get('SECRET_KEY'):
        raise SystemExit('SECRET_KEY is not set: put it in /etc/jiuzhu/jiuzhu.env (deploy/jiuzhu.env.example)')
