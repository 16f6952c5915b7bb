"""Vector indexes: a small interface (`VectorIndex`) and its HNSW implementation on disk."""
