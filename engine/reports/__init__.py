"""Reports for the Medical Affairs office: who registered, approved, accepted, published, is late.

Layers, each in its own module:
  rows.py     plain frozen rows (units, tasks with their milestones, deadlines, obligations)
  load.py     the only module that queries the database: one year's rows, dates made local
  compute.py  pure functions rows → `Report` (compliance, progress); no I/O, no clock
  compilation.py  the year's compilation (summary `Report`, rates, danh mục), pure as compute
  render.py   table / CSV / JSON text of a `Report`;  xlsx.py  the print-ready workbook (its
              Decree 30 blocks and table shared with compilation_xlsx.py; compilation_text.py)
  build.py    the one entry point the CLI and the e-mail hook call
  wiring.py   installs the hook that mails the reports on their configured dates

Nothing here reads the clock: the caller passes the "as of" date.
"""
