"""The HTTP API (FastAPI): ``python -m api serve`` or ``make api``.

An interface like the app and the CLI: it reaches the store only through :mod:`usecases` (``usecases.store``) and
runs the engine through the same use cases, so a backtest, a study or a report made through the API equals one
made in the app or on the command line. :func:`api.app.create_app` builds the application.
"""
