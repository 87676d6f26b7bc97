"""The `nckh` command line: a thin shell over `engine.service.Engine`.

Command modules import only click at the top; the database and workflow machinery load inside
the commands, so `nckh --help` stays instant.
"""
