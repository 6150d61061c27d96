"""QA analytics over records and stored vectors: clustering, drift signals, quality summary, report."""
