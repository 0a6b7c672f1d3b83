"""WSGI entry point: ``gunicorn wsgi:app``."""

from affsrv import create_app

app = create_app()
