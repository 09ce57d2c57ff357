"""The curves a training run leaves beside its model."""

import matplotlib

matplotlib.use("Agg")
from matplotlib.axes import Axes  # noqa: E402

from tablegraph.training.report import NO_VALIDATION, curves_png  # noqa: E402


def _history(validation: bool) -> list[dict[str, float]]:
    rows = []
    for e in range(1, 4):
        row = {"epoch": e, "train_loss": 1.0 / e, "lr": 1e-4 / e}
        if validation:
            row.update({"val_loss": 1.2 / e, "val_hit@1": 0.5, "val_recall@1": 0.4,
                        "val_recall@5": 0.9, "val_mrr": 0.6})
        rows.append(row)
    return rows


def _texts(monkeypatch, history) -> tuple[bytes, list[str]]:
    said: list[str] = []
    real = Axes.text

    def spy(self, x, y, s, *args, **kwargs):
        said.append(s)
        return real(self, x, y, s, *args, **kwargs)

    monkeypatch.setattr(Axes, "text", spy)
    return curves_png(history), said


def test_curves_say_when_there_was_no_validation_split(monkeypatch):
    png, said = _texts(monkeypatch, _history(validation=False))
    assert png[:4] == b"\x89PNG"
    assert said == [NO_VALIDATION]


def test_curves_with_a_validation_split_draw_it_without_the_note(monkeypatch):
    png, said = _texts(monkeypatch, _history(validation=True))
    assert png[:4] == b"\x89PNG"
    assert NO_VALIDATION not in said
