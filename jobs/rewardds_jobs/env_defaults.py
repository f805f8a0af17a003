"""The environment every job sets before it imports a library (some read it only then).

Jobs never reach a model hub: every model comes from an input channel. Local mode's warm
job process (warm.py, which imports the libraries on the jobs' behalf) keeps an equal copy.
"""

ENV_DEFAULTS = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",
}
