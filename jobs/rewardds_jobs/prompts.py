"""Every text a model reads. `format_prompt` is the one way a user prompt becomes model input:
the SFT trainings put the response right after it, and every generation stage feeds it, so
what a model learned to continue is exactly what it is asked to continue.
"""

from __future__ import annotations

from collections.abc import Sequence

PLAIN_TEMPLATE = "### Instruction:\n{prompt}\n\n### Response:\n"


def format_prompt(tokenizer, prompt: str) -> str:
    """The model input for a user prompt: the tokenizer's chat template, else a fixed plain template."""
    if getattr(tokenizer, "chat_template", None):
        text = tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
        )
        if isinstance(text, str):
            return text
    return PLAIN_TEMPLATE.format(prompt=prompt)


def query_synthesis_prompt(seed_prompts: Sequence[str]) -> str:
    """Asks G for one new user question: few-shot from public seeds when given, else zero-shot.

    Only prompts the owner declared public may be passed here: in the synthesis zone a
    private record must never be a few-shot example.
    """
    if not seed_prompts:
        return (
            "Write one new question that a user of this assistant might ask, in the same domain "
            "and style as the questions you were trained on. Reply with the question only."
        )
    examples = _sections(*((f"Example {i}", p) for i, p in enumerate(seed_prompts, start=1)))
    return (
        "Here are example questions that users ask this assistant.\n\n"
        f"{examples}"
        "Write one new question of the same kind, on a different topic from the examples. "
        "Reply with the question only."
    )


# Stands for a user message's content while the chat template is rendered, to find what surrounds it.
_CONTENT = "\u0000rewardds-user-content\u0000"


def pre_query(tokenizer) -> tuple[str, str]:
    """(the text before a user message's content, the text that ends it) in G's chat template.

    Continuing the first samples a user question from the model itself, with no instruction
    to follow: the way to synthesize queries with a model that cannot follow one
    (docs/design.md#synthesize-queries). The plain template's pair when there is no chat template.
    """
    rendered = format_prompt(tokenizer, _CONTENT)
    before, after = rendered.split(_CONTENT, 1)
    end = after.strip().split()
    # An after-part of blanks only (no marker to stop at) ends the query at the first blank line.
    return before, end[0] if end else "\n\n"


def cut_user_turn(text: str, end: str) -> str:
    """A continued user turn up to the marker that ends it (the rest is the model's next turn)."""
    return text.split(end, 1)[0]


_QUERY_LABELS = ("question:", "new question:", "query:")


def clean_query(text: str) -> str:
    """A sampled query without surrounding blanks or a leading label the model may echo."""
    out = text.strip()
    lowered = out.lower()
    for label in _QUERY_LABELS:
        if lowered.startswith(label):
            out = out[len(label) :].strip()
            break
    return out


def fold_for_dedup(text: str) -> str:
    """Exact-duplicate key after whitespace and case folding (docs/design.md#synthesize-queries)."""
    return " ".join(text.split()).casefold()


def _sections(*labelled: tuple[str, str]) -> str:
    """Each text stripped under its label, each followed by a blank line: how a prompt shows the texts it is about."""
    return "".join(f"{label}:\n{text.strip()}\n\n" for label, text in labelled)


def critique_prompt(query: str, chosen: str, rejected: str) -> str:
    """G compares the better and the worse answer so T can learn what to fix."""
    return _sections(("Question", query), ("Answer A", chosen), ("Answer B", rejected)) + (
        "Answer A was judged better than Answer B. In two or three sentences, say why, and "
        "name what Answer A still lacks or gets wrong."
    )


def improvement_prompt(query: str, chosen: str, critique: str) -> str:
    """T rewrites the best answer so far, guided by G's critique."""
    return _sections(("Question", query), ("Draft answer", chosen), ("Reviewer's notes", critique)) + (
        "Write an improved answer to the question that keeps what is right in the draft and "
        "fixes what the notes point out. Reply with the answer only."
    )
