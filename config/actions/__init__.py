"""The demo's custom actions, served by a rasa-sdk action server.

rasa-sdk imports this package and every module in it, and registers each `Action` subclass
under its `name()`. Run it from the repository root with the action server's own environment
(rasa-sdk pins sanic, pydantic and protobuf, so it does not share the hub's ``.venv``)::

    scripts/run-actions                      # 127.0.0.1:${FRONTDESK_ACTIONS_PORT:-5055}

which amounts to::

    SANIC_HOST=127.0.0.1 PYTHONPATH=config \\
        .venv-actions/bin/python -m rasa_sdk --actions actions -p 5055

Modules here import each other relatively, so the package also loads as ``config.actions``
(``--actions config.actions`` from the repository root). See docs/dialogs-actions.md.
"""
