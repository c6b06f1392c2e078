"""Pipeline: the steps that combine the domain with storage and checks, and their one
sequence per pipeline (collect, remind, rollup, init).  Plain functions; no Prefect.
The CLI runs a sequence directly, a flow runs the same sequence with each step as a task."""
