"""gunicorn settings that keep personal data out of the access log (ADR 0014).

gunicorn reads ``./gunicorn.conf.py`` by itself when started from the project's root
(``gunicorn wsgi:app``); elsewhere pass ``-c /path/to/gunicorn.conf.py``.

The default access-log line has the request line with its query string (``%(r)s``)
and the ``Referer`` (``%(f)s``), which carries the query string of the previous page:
an old ``/cases?q=<document number>`` link, or any future GET filter, would write a name
or a document number into a plain-text log kept outside the database's protections.
This format logs the path without the query string (``%(U)s``) and no referer.
"""

# remote address, time, method, path WITHOUT query string, protocol, status, bytes,
# duration in seconds; nothing of the query string, referer or user agent
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(L)s'
accesslog = "-"  # stdout, for the service manager's journal
errorlog = "-"
loglevel = "info"
umask = 0o077  # a unix socket and worker heartbeat files: the owner's only
# A worker silent this long is restarted. gunicorn's 30 s would cut off a register import
# from the page (docs/imports.md, Limits: up to IMPORT_PAGE_MAX_ROWS rows in one request).
timeout = 120
