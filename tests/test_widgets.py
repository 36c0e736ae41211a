"""helpers.widgets: each control is wired to what it redraws (checked without a browser)."""

import re

import ipywidgets as widgets
import matplotlib
import pytest

from helpers import results, viz
from helpers import widgets as lab_widgets

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def chosen():
    return results.budget_true(results.load_results())


def _find(box, kind):
    """Every widget of a type inside a box, depth first."""
    found = [box] if isinstance(box, kind) else []
    for child in getattr(box, "children", ()):
        found += _find(child, kind)
    return found


def test_the_console_redraws_when_a_control_moves(chosen, monkeypatch):
    asked = []
    real_lookup = results.lookup
    monkeypatch.setattr(results, "lookup", lambda table, a, n: asked.append((a, n)) or real_lookup(table, a, n))
    console = lab_widgets.console(chosen)
    (approach,) = _find(console, widgets.Dropdown)
    (labels,) = _find(console, widgets.SelectionSlider)
    (button,) = _find(console, widgets.Button)
    assert asked[-1] == ("fine-tune", 1)
    approach.value = "from scratch"
    assert asked[-1] == ("from scratch", 1)
    labels.value = 5
    assert asked[-1] == ("from scratch", 5)
    seconds = float(real_lookup(chosen, "from scratch", 5).seconds.iloc[0])
    assert f"took {seconds:.1f} s" in button.description  # the label states the cached time of the new choice


def test_the_console_summary_says_one_seed_instead_of_nan(chosen):
    rows = results.lookup(chosen, "fine-tune", 1)
    assert "one seed: no interval" in lab_widgets.console_summary(rows.iloc[:1])
    assert "nan" not in lab_widgets.console_summary(rows.iloc[:1]).lower()
    assert "95% interval" in lab_widgets.console_summary(rows) and "10 seeds" in lab_widgets.console_summary(rows)
    table = lab_widgets.console_table(rows)
    assert "C" not in table.columns and table["test accuracy (%)"].max() > 1  # percent, not a fraction
    assert all(re.fullmatch(r"\d\.\d\de\+\d\d", flops) for flops in table["training FLOPs"])  # 3.54e+11
    assert (table["seconds (one thread)"] == table["seconds (one thread)"].round(1)).all()


def test_the_label_slider_redraws_the_chosen_budget(chosen, monkeypatch):
    drawn = []
    monkeypatch.setattr(viz, "plot_label_budget", lambda summary, n, title=None: drawn.append(n))
    slider_box = lab_widgets.label_budget_slider(results.summarise(chosen))
    (slider,) = _find(slider_box, widgets.SelectionSlider)
    slider.value = 3
    assert drawn[-1] == 3
    assert slider.style.description_width == "initial"  # the label is shown whole


def test_the_amortisation_slider_redraws_with_the_tasks_chosen(chosen, monkeypatch):
    drawn = []
    monkeypatch.setattr(viz, "plot_accuracy_vs_compute", lambda *args, amortise_over: drawn.append(amortise_over))
    box = lab_widgets.amortisation_slider(results.summarise(chosen), 1, 1e12)
    (slider,) = _find(box, widgets.SelectionSlider)
    slider.value = 1000
    assert drawn[-1] == 1000
