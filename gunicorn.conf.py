"""gunicorn settings for production: ``gunicorn -c gunicorn.conf.py wsgi:app``."""

import os

bind = os.environ.get("PORTAL_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("PORTAL_WEB_PROCESSES", "3"))
threads = int(os.environ.get("PORTAL_WEB_THREADS", "4"))
accesslog = "-"
# No query strings in the access log; sign-in paths are redacted by the portal's log filter.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'
forwarded_allow_ips = os.environ.get("PORTAL_PROXY_IPS", "127.0.0.1")
