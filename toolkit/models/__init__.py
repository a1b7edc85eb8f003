"""Neural models: DeepSER (N-stream deep hierarchical fusion) and its pooling layers."""
