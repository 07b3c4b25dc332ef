"""The floor bench/serve.py measures PolicyPass against: Flask, one SELECT and a small template, nothing else.

Served by gunicorn exactly as PolicyPass is: `gunicorn bench.floor_app:app`, with FLOOR_DATABASE naming the
SQLite file to read one row from (the bench points it at the PolicyPass demo database it builds).
"""

import os
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, render_template

app = Flask(__name__, template_folder=str(Path(__file__).with_name("templates")))
engine = sa.create_engine(f"sqlite:///{os.environ.get('FLOOR_DATABASE', ':memory:')}")


@app.get("/healthz")
def healthz():
    """Up."""
    return "ok"


@app.get("/hello")
def hello():
    """The least a request can cost."""
    return "hello"


@app.get("/page")
def page():
    """One SELECT (a person by id) and a template with a header, a list and a footer."""
    with engine.connect() as connection:
        row = connection.execute(sa.text("SELECT id, name, email FROM user WHERE id = :id"), {"id": 1}).first()
    return render_template("floor.html", person=row, items=range(10))
