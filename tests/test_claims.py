"""Numbers that describe results are computed, never typed: a notebook's markdown states no measured figure.

A result in prose (an accuracy, a difference in points, FLOPs, a count of seeds won) is rendered by a
code cell from the shipped results, so it cannot drift from them. This test reads every notebook's
markdown and fails on anything that looks like a typed result. The few numbers below are not results:
each is a definition, a setting or arithmetic stated in the text, and says why it is allowed.
"""

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))

# Looks like a measured result: a percentage, points, a ± spread, FLOPs in scientific notation (a
# learning rate such as 3e-3 is a setting, so negative exponents pass),
# "N of M seeds", "N times".
RESULT = re.compile(
    r"\d+(?:\.\d+)?\s?%"
    r"|\d+(?:\.\d+)?\s+(?:percentage\s+)?points?\b"
    r"|±"
    r"|\d(?:\.\d+)?e\+?(?:[5-9]|\d{2})\b"
    r"|\b\d+\s+of\s+(?:the\s+)?\d+\s+seeds"
    r"|\b\d+(?:\.\d+)?\s*(?:x|times)\s+(?:the|as|fewer|more|faster|slower)\b"
)

NOT_RESULTS = {  # text that matches RESULT but states no measurement
    "95%": "the confidence level of every interval",
    "90%": "a target set in advance (04's race, 05's 90% of the best final accuracy), or 01's target for the source model",  # noqa: E501
    "10%": "chance on ten classes (02)",
    "3%": "chance on 37 letters (01)",
    "100%": "what memorising the training set means (02)",
    "50%": "chance on two balanced classes (07)",
    "70%": "07's split of each work: training snippets from its first 70%",
    "30%": "07's split of each work: test snippets from its last 30%",
}


def result_numbers(text: str) -> list[str]:
    return [match.group(0).strip() for match in RESULT.finditer(text) if match.group(0).strip() not in NOT_RESULTS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_markdown_states_no_typed_result(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    typed = []
    for number, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        source = "".join(cell["source"])
        typed += [f"cell {number}: {found!r}" for found in result_numbers(source)]
    assert not typed, (
        f"{path.name} states results in markdown: {typed}. Render them from the results in a code cell "
        f"(display(Markdown(f'...'))), or, if a number is a definition rather than a result, add it to NOT_RESULTS."
    )


def test_the_pattern_catches_typed_results():
    typed = "LP-FT leads by about 11 points (71.4% ± 4.9%) and costs 3.93e12 FLOPs, ahead in 9 of 10 seeds"
    assert result_numbers(typed) == ["11 points", "71.4%", "±", "4.9%", "3.93e12", "9 of 10 seeds"]
    assert result_numbers("a 95% interval; the target is 90% of the best; lr 3e-3") == []
