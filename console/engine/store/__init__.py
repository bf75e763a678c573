"""The SQLite store: tables, the hash-chained event log, secrets, atomic writes."""
