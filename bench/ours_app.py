"""The real app for `make bench`, with form tokens off so it is measured like the baseline."""

from __future__ import annotations

import os

from screening import create_app

app = create_app(
    {
        "SECRET_KEY": "bench-secret-key-0123456789abcdef",
        "DATABASE": os.environ["BENCH_DATABASE"],
        "SCREENING_ENV": "development",
        "WTF_CSRF_ENABLED": False,
    }
)
