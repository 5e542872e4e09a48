"""Learned layers: scikit-learn models persisted with skops and loaded against an allow-list of
types (never pickle), each with a metadata side-car (training-data hash, versions, test figures)."""
