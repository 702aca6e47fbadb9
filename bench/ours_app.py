"""The real app for `make bench`, with form tokens off so it is measured like the baseline."""

from __future__ import annotations

import os

from screening import create_app


def make_app(database: str):
    return create_app(
        {
            "SECRET_KEY": "bench-secret-key-0123456789abcdef",
            "DATABASE": database,
            "SCREENING_ENV": "development",
            "WTF_CSRF_ENABLED": False,
        }
    )


app = make_app(os.environ["BENCH_DATABASE"]) if "BENCH_DATABASE" in os.environ else None
