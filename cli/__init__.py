"""The command line, ``python -m cli <command> ...``: an interface over the use-case layer (see :mod:`cli.main`).

Commands: ``backtest`` (:mod:`cli.main`), ``runs`` (:mod:`cli.runs`), ``optimize`` (:mod:`cli.optimize`) and
``report`` (:mod:`cli.report`).
"""
