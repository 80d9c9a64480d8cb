"""The service's glue between the accountable store and the live pipeline: a watchlist
snapshot as the pipeline's watchlist, the sink that stores what the pipeline emits, the
supervisor that runs the pipelines of live deployments, and the operations the CLI runs.
"""
