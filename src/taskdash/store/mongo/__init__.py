"""MongoDB implementation of the repository protocol; `repository` describes the collections."""
