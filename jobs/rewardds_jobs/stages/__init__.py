"""One module per stage; each exposes `run(job: Job) -> dict` returning its metrics.

`proxy_training` is not a stage: it holds the DP training and saving the two proxy stages share.
"""
