"""WSGI entry point: `flask --app wsgi ...` and `gunicorn wsgi:app`."""
import gc

from tts import create_app

app = create_app()

# Everything built so far (the app, its templates' modules, SQLAlchemy's mappers: about 150,000 objects)
# lives as long as the process. Freezing it keeps Python's full garbage collections, which run every few
# requests of a busy page, from walking it all again: My work's p95 at national-peak scale fell from 158
# to 65 ms (docs/benchmarks.md).
gc.collect()
gc.freeze()
