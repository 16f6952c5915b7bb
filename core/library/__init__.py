"""The library: catalogue, index, ingest and search."""
