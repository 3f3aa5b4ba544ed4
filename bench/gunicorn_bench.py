"""gunicorn as the page benchmark runs it: two sync workers, no threads, no access log."""

import os

bind = os.environ["BENCH_BIND"]
workers = 2
worker_class = "sync"
threads = 1
accesslog = None
errorlog = os.environ.get("BENCH_ERROR_LOG", "-")
loglevel = "warning"
