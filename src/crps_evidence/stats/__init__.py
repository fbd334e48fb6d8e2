"""Numbers from the evidence: conversions, effect sizes, pooling, GRADE rules, certainty, analyses.

Imports from ``evidence`` only (and the package's errors and helpers).
"""
