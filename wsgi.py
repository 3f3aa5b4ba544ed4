"""WSGI entry point: ``gunicorn -c gunicorn.conf.py wsgi:app``."""

from dotenv import load_dotenv

from portal import create_app

load_dotenv()  # a .env file beside this one, if present; real environment variables win
app = create_app()
