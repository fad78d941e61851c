"""Developer tools: synthetic data, import analysis. Never imported by the product."""
