"""One module per stage; each exposes `run(job: Job) -> dict` returning its metrics."""
