"""`taskdash migrate`: copy a whole store between SQLite and MongoDB, resumably, and verify it."""
