"""WSGI entry point (``gunicorn wsgi:app``); also lets ``flask`` find the app from here."""

from caseapp import create_app

app = create_app()
