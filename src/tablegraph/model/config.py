"""The encoder's typed configuration (no torch here)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from tablegraph.config import TypedConfig
from tablegraph.utils import TableGraphError


MAX_DENSE_WEIGHT = 10.0  # the largest dense prior weight accepted (`EncoderConfig.dense_weight`)


@dataclass
class EncoderConfig(TypedConfig):
    """Every constructor argument of `ContrastiveGNNEncoder` (and of its question side,
    `scoring.QuestionHead`)."""

    in_dim: int = 128 + 384  # node feature width: stats_dim statistics + text embedding
    out_dim: int = 384  # the text model's dimension: tables and questions meet there
    stats_dim: int = 128  # leading statistics columns of a node feature (the rest is text)
    hidden_dim: int = 256
    num_layers: int = 2
    conv: str = "gatv2"  # gatv2 | gin | sage
    heads: int = 4
    dropout: float = 0.1
    pooling: str = "attention"  # attention | meanmax
    text_skip: bool = True
    late_interaction: bool = True  # also score questions against contextualised node vectors
    # attention: learned attention pooling over the frozen encoder's token embeddings
    # (starts as mean pooling); sentence: the text model's own sentence embedding
    question_pooling: str = "attention"
    schema_linking: bool = True  # add learned weights x lexical features (linking.py)
    # Dense prior: this times the cosine between the question's sentence embedding and the
    # text model's embedding of the table's document (`TableNodes.document`, its first
    # `DOCUMENT_CHARS` characters) is added to a table's score when questions are scored
    # against an index (not in the training loss): zero-shot dense retrieval, which no
    # training narrowed, in an ensemble with the trained scores. 0 (the seed setting): off.
    dense_weight: float = 0.0
    # Weight of the graph encoder's terms (the table and best-node cosines) when questions are
    # scored against an index (not in the training loss): below 1, the schema-linking
    # features and the dense prior, which hold for any database, count for more beside what
    # training fitted to its databases. 1 (the seed setting): as trained.
    encoder_weight: float = 1.0

    def trained_part(self) -> "EncoderConfig":
        """This config with the settings that only weigh scores against an index
        (`dense_weight`, `encoder_weight`) at the seed's values: two configs whose trained
        parts are equal can load each other's weights."""
        return replace(self, dense_weight=EncoderConfig.dense_weight,
                       encoder_weight=EncoderConfig.encoder_weight)

    def validate(self) -> "EncoderConfig":
        if self.conv not in ("gatv2", "gin", "sage"):
            raise TableGraphError(f"unknown conv {self.conv!r}: use gatv2, gin or sage")
        if self.pooling not in ("attention", "meanmax"):
            raise TableGraphError(f"unknown pooling {self.pooling!r}: use attention or meanmax")
        if self.question_pooling not in ("attention", "sentence"):
            raise TableGraphError(f"unknown question pooling {self.question_pooling!r}: use "
                                  "attention or sentence")
        if not 1 <= self.num_layers <= 4:
            raise TableGraphError("num_layers must be between 1 and 4")
        if self.conv == "gatv2" and self.hidden_dim % self.heads:
            raise TableGraphError("hidden_dim must be divisible by heads")
        if not 0 <= self.dense_weight <= MAX_DENSE_WEIGHT:
            raise TableGraphError(f"dense_weight must be between 0 and {MAX_DENSE_WEIGHT:g}")
        if not 0 < self.encoder_weight <= 1:
            raise TableGraphError("encoder_weight must be above 0 and at most 1")
        if not 0 <= self.stats_dim < self.in_dim:
            raise TableGraphError("stats_dim must be below in_dim")
        return self
