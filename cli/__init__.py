"""The `tacitkb` command line: thin commands over kb/ and ingest/."""
