"""Thin Prefect tasks over the domain core: batches, retries on I/O, business-key caching."""
