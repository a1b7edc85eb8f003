"""Training DeepSER members (MEDUSA stages 1-2): configs, data loading, losses, the training loop."""
