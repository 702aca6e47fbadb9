"""Gunicorn settings read from the project root: keep query strings (search terms) out of access logs."""

bind = "127.0.0.1:8000"
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss'
