"""nckh workflows: the data files that define each kind of task, and what turns them into machines.

A workflow is data (`definitions/*.yaml`). This package parses and validates a file into a frozen
`Workflow`, compiles it into one shared `transitions.Machine`, and never special-cases a state name.
"""
