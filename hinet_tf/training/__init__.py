"""Training: YAML recipes, the learning-rate schedule, callbacks and the `model.fit` trainer."""
