"""nckh engine: the decisions about research tasks and the API every shell uses.

The engine owns the rules (who may fire which event, what data it needs, what deadlines follow)
and the one transactional entry point the CLI, the daemon and the tests call. It never reads the
environment, the wall clock or a terminal: shells pass settings and `now` in.
"""

__version__ = "0.1.0"
