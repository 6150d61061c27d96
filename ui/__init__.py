"""TacitKB's Streamlit front end: thin pages over the kb/ and ingest/ packages."""
