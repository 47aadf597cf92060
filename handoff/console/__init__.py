"""The agent console: the web app where agents, supervisors and operators work.

`mount.install_console(app, hub, config)` adds its routes to the hub's application (called once
from `hub.app.create_app`); `register(commands)` adds `frontdesk agents …` to the command line.
Nothing else is imported here: the command line imports this package to build its parser.
"""

from handoff.console.cli import register

__all__ = ["register"]
