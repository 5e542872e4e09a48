"""Running batches on a cluster: the Ray backend of qc transcribe|score --ray (issue 13)."""
