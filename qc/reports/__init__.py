"""Reports and exports people open: the monthly quality sheets, trainer examples, the listening list.

Each report is built as plain tables first (``monthly``, ``examples``, ``sampling``) and written by
the writers (``write``, ``examples_write``, ``sampling.write_sample``), which all go through
``tables``: cells made safe by ``cells`` (no formula injection), numbers kept as numbers, files
written atomically with one-line errors. Every Chinese header and display name is in ``labels``.
"""
