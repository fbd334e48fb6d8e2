"""Numbers from the evidence: conversions, effect sizes, pooling, GRADE rules, certainty, analyses,
the summary of findings.

Imports from ``evidence`` only (and the package's errors and helpers).
"""
