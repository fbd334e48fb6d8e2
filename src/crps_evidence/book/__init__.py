"""What readers see: notebook helpers, reader tables, figures, the overview and the handouts.

May import ``evidence``, ``stats`` and ``current``; nothing imports it but the command line.
"""
