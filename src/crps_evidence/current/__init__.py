"""Keeping the collection current: HTTP clients, trial registries, recorded searches, screening.

Imports from ``evidence`` only (and the package's configuration, errors and helpers).
"""
