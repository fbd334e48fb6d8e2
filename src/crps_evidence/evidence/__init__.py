"""The evidence itself: the tables and their schema, the bibliography, and checks across them.

The bottom part of the package: it imports nothing from ``stats``, ``current`` or ``book``.
"""
