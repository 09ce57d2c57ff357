"""The embedded default dataset (`embedded`, vocabularies in `vocab`, 440 questions in
`data/questions.csv`): a synthetic stand-in for the 22 MIMIC-IV hosp tables."""
