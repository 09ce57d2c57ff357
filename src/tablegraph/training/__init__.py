"""Training: the contrastive loop (`trainer`), schema pairs drawn from the tables (`pairs`),
history and curves (`report`) and the whole job from tables and questions to a saved model
folder (`run`). Nothing outside `training` and the benchmarks imports it."""
