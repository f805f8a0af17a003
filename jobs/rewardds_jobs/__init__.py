"""RewardDS ML jobs: one stage a module, each a pure function of SageMaker-style directories.

`python -m rewardds_jobs <stage>`; see docs/job-contract.md for the directory layout,
the config keys and the record shapes.
"""
