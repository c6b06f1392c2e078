"""The DuckDB warehouse: schema migrations and the one module that writes (`writer`)."""
