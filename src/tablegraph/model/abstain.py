""""Nothing here answers this": a calibrated probability that some table of the database answers
the question, from signals that hold for any database.

Features of one question (`ABSTAIN_FEATURES`): from its scores s [M], the best score, its
margin over the second, the mean of the best three, the spread of all scores and the entropy
of the softmax at the model's temperature (normalised by log M); from its words against the
schema (`SchemaLinker.question_features`), the share of its words found in any table's names
or values and the best schema-linking features over the tables; from the text model alone,
the best cosine between the question's sentence embedding and a table's document
(`dense_max`: a question that shares no word with its table, "where do buyers live" for
`customers`, still has its meaning); from the schema alone, the share of its name words that
are no common word (`names_unread`, `SchemaLinker.names_unread`: an abbreviated schema,
`cstm_ordr`, gives every question lower scores and fewer words found, which says nothing of
whether it answers). A logistic model maps them to p(answerable); the
question is answerable when p >= the threshold. Its terms (`ABSTAIN_TERMS`) are the features,
each of them times `names_unread` (how much a score or a word match says depends on how
readable the schema's names are: an abbreviated schema's own questions score low) and their
squares (a feature whose middle says more than its ends). The model is fitted on scores of
answerable and unanswerable questions (`training.pretrain.fit_abstention`), and its
threshold is chosen on a validation split. A model records the features and terms it reads,
so one fitted on fewer of them (before `dense_max`, `names_unread` or the terms) still reads
its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tablegraph.model.linking import FEATURE_NAMES, SchemaLinker
from tablegraph.utils import TableGraphError

ABSTAIN_FEATURES = ("max", "margin", "top3_mean", "std", "entropy", "word_share",
                    *(f"best_{f}" for f in FEATURE_NAMES), "dense_max", "names_unread")
ABSTAIN_TERMS = ("linear", "times_unread", "squared")


def abstain_terms(x: np.ndarray, features: tuple[str, ...],
                  terms: tuple[str, ...]) -> np.ndarray:
    """Feature columns [Q, F] named `features` -> the logistic model's inputs [Q, T]: the
    features themselves ("linear"), every other feature times `names_unread`
    ("times_unread"; none when `features` lack it) and the squares of all ("squared"), in
    that order."""
    x = np.asarray(x, dtype=np.float64)
    parts = [x] if "linear" in terms else []
    if "times_unread" in terms and "names_unread" in features:
        u = features.index("names_unread")
        parts.append(np.delete(x, u, axis=1) * x[:, u:u + 1])
    if "squared" in terms:
        parts.append(x ** 2)
    return np.concatenate(parts, axis=1)


def abstain_features(scores: np.ndarray, questions: list[str], linker: SchemaLinker,
                     temperature: float = 0.07, link: np.ndarray | None = None,
                     dense: np.ndarray | None = None) -> np.ndarray:
    """Scores [Q, M] of `questions` against `linker`'s tables -> [Q, len(ABSTAIN_FEATURES)];
    `link`: their linking features [Q, M, F] when the scorer already computed them; `dense`:
    the cosines [Q, M] between their sentence embeddings and the tables' documents (None:
    `dense_max` is NaN, and a model that reads it refuses)."""
    q = np.atleast_2d(np.asarray(scores)).shape[0]
    best = np.full((q, 1), np.nan) if dense is None else \
        np.asarray(dense, dtype=np.float64).reshape(q, -1).max(axis=1, keepdims=True)
    return np.concatenate([_score_features(scores, temperature),
                           linker.question_features(questions, link).astype(np.float64), best,
                           np.full((q, 1), linker.names_unread)], axis=1)


def _score_features(scores: np.ndarray, temperature: float) -> np.ndarray:
    """Scores [Q, M] -> the shape of each row [Q, 5]."""
    s = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    srt = -np.sort(-s, axis=1)
    second = srt[:, 1] if s.shape[1] > 1 else srt[:, 0]
    z = (s - srt[:, :1]) / max(temperature, 1e-6)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    ent = -(p * np.log(np.clip(p, 1e-12, None))).sum(axis=1) / np.log(max(s.shape[1], 2))
    return np.stack([srt[:, 0], srt[:, 0] - second, srt[:, :3].mean(axis=1), s.std(axis=1),
                     ent], axis=1)


@dataclass
class AbstainHead:
    """p(answerable) = sigmoid(standardised features . coef + intercept)."""

    coef: list[float]
    intercept: float
    mean: list[float]
    scale: list[float]
    threshold: float = 0.5
    temperature: float = 0.07
    features: tuple[str, ...] = ABSTAIN_FEATURES  # what it reads, of ABSTAIN_FEATURES
    terms: tuple[str, ...] = ("linear",)  # of ABSTAIN_TERMS; a model saved before them: linear

    def confidence(self, scores: np.ndarray, questions: list[str], linker: SchemaLinker,
                   link: np.ndarray | None = None,
                   dense: np.ndarray | None = None) -> np.ndarray:
        """Scores [Q, M] of `questions` against `linker`'s tables -> [Q] probabilities that
        the question is answerable here (`link`, `dense`: see `abstain_features`)."""
        return self.predict(abstain_features(scores, questions, linker, self.temperature, link,
                                             dense))

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Feature rows [Q, len(ABSTAIN_FEATURES)] (`abstain_features`) -> [Q] p(answerable),
        from the columns this model reads."""
        x = np.asarray(features, dtype=np.float64)[:, [ABSTAIN_FEATURES.index(f)
                                                       for f in self.features]]
        if np.isnan(x).any():
            raise TableGraphError("the abstention model reads the tables' documents, which "
                                  "this index lacks: build it again with this version")
        x = (abstain_terms(x, self.features, self.terms) - np.asarray(self.mean)) / \
            np.asarray(self.scale)
        return 1.0 / (1.0 + np.exp(-(x @ np.asarray(self.coef) + self.intercept)))

    def to_dict(self) -> dict:
        return {"features": list(self.features), "coef": [float(c) for c in self.coef],
                "intercept": float(self.intercept), "mean": [float(m) for m in self.mean],
                "scale": [float(s) for s in self.scale], "threshold": float(self.threshold),
                "temperature": float(self.temperature), "terms": list(self.terms)}

    @staticmethod
    def from_dict(d: dict | None) -> "AbstainHead | None":
        """The model a config records (None without one, or one that reads a feature or term
        this version does not compute); a config without "terms" (saved before them) is
        linear."""
        features = tuple(d.get("features", ())) if d else ()
        terms = tuple(d.get("terms", ("linear",))) if d else ()
        if not features or not set(features) <= set(ABSTAIN_FEATURES) or \
                not set(terms) <= set(ABSTAIN_TERMS):
            return None
        n = abstain_terms(np.zeros((1, len(features))), features, terms).shape[1]
        if not n == len(d["coef"]) == len(d["mean"]) == len(d["scale"]):
            return None
        return AbstainHead(list(d["coef"]), float(d["intercept"]), list(d["mean"]),
                           list(d["scale"]), float(d["threshold"]),
                           float(d.get("temperature", 0.07)), features, terms)


def fit_abstain_head(answerable: np.ndarray, unanswerable: np.ndarray,
                     temperature: float = 0.07, weights: tuple[np.ndarray, np.ndarray] | None
                     = None, terms: tuple[str, ...] = ABSTAIN_TERMS) -> AbstainHead:
    """Fit on feature rows of answerable [A, F] and unanswerable [U, F] questions (balanced
    classes; F = len(ABSTAIN_FEATURES)), each row weighing 1 or as `weights` ([A], [U])
    say, with the model's `terms` (`abstain_terms`); the threshold stays 0.5 until chosen on
    validation questions. A feature no row has (NaN: `dense_max` without table documents) is
    left out of the model; one that only some rows lack is an error."""
    from sklearn.linear_model import LogisticRegression

    x = np.concatenate([answerable, unanswerable])
    keep = ~np.isnan(x).all(axis=0)
    x = x[:, keep]
    if np.isnan(x).any():
        raise ValueError("some questions lack an abstention feature the others have")
    features = tuple(f for f, k in zip(ABSTAIN_FEATURES, keep) if k)
    x = abstain_terms(x, features, terms)
    y = np.concatenate([np.ones(len(answerable)), np.zeros(len(unanswerable))])
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    w = None if weights is None else np.concatenate(weights)
    clf = LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000).fit(
        (x - mean) / scale, y, sample_weight=w)
    return AbstainHead(clf.coef_[0].tolist(), float(clf.intercept_[0]), mean.tolist(),
                       scale.tolist(), 0.5, temperature, features, tuple(terms))
