"""The use-case layer: what the interfaces (the app, the CLI, the API, the worker) ask the product to do.

It combines the engine (:mod:`core`) and the store (:mod:`storage`), which never import each other's behaviour:
re-running a stored run (:mod:`usecases.runs`), reports from the store (:mod:`usecases.reports`), optimisation
studies (:mod:`usecases.studies`) and the position ledger (:mod:`usecases.ledger`). :mod:`usecases.store` hands
the interfaces the store's records and errors, so they import nothing below this layer but core's values.
"""
